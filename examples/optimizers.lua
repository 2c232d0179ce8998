-- Teaches: how optimizers differ. SGD, SGD with momentum, RMSprop and Adam
--   (nn.optimizers, the same code model:fit uses) start from one point high
--   on the wall of a curved valley and take 200 steps each: plain SGD runs
--   down the steepest slope and then crawls along the flat floor; momentum
--   gathers speed, overshoots and swings round the bend, yet gets closest;
--   RMSprop and Adam scale each weight's step by the size of its recent
--   gradients. Then the same four on a bowl. Prints where each ends and its
--   final loss; draws their paths.
-- Runs in: about 1 s
-- Usage: nnlua examples/optimizers.lua [outdir]   (PNGs go to outdir, default "out")
local out = "out" -- the first argument that is not an option (--quick)
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

-- Rosenbrock's valley (gentler walls): minimum 0 at (1, 1).
local function valley(w1, w2) return (1 - w1) ^ 2 + 10 * (w2 - w1 ^ 2) ^ 2 end

local optimizers = {
  {name = "sgd", lr = 0.008},
  {name = "momentum", lr = 0.002},        -- nn.optimizers.SGD{momentum = 0.9}
  {name = "rmsprop", lr = 0.02},
  {name = "adam", lr = 0.05},
}
local paths = nn.plot.loss_surface(valley, {
  range = {-2, 2, -1, 3}, start = {0.3, 2.8}, steps = 200, resolution = 90,
  optimizers = optimizers,
  title = "four optimizers, 200 steps each, in a curved valley (minimum at 1, 1)",
  file = out .. "/optimizers.png"})

print("200 steps from (0.3, 2.8); the minimum is 0 at (1, 1)")
for _, p in ipairs(paths) do
  local e = p.points[#p.points]
  print(string.format("  %-9s lr %-6g ends at (%6.3f, %6.3f)  final loss %.6f", p.name, p.lr,
                      e[1], e[2], p.loss[#p.loss]))
end

-- The same four on a bowl ten times steeper along w2: SGD's step is limited
-- by the steep direction, the adaptive ones are not.
local bowl = function(w1, w2) return w1 ^ 2 + 10 * w2 ^ 2 end
paths = nn.plot.loss_surface(bowl, {start = {-1.8, 1.5}, steps = 60, resolution = 90,
                                    optimizers = {{name = "sgd", lr = 0.02},
                                                  {name = "momentum", lr = 0.02},
                                                  {name = "rmsprop", lr = 0.05},
                                                  {name = "adam", lr = 0.1}},
                                    title = "four optimizers, 60 steps each, on a bowl",
                                    file = out .. "/optimizers_bowl.png"})
print("\n60 steps on the bowl w1^2 + 10 w2^2 from (-1.8, 1.5)")
for _, p in ipairs(paths) do
  print(string.format("  %-9s lr %-6g final loss %.3g", p.name, p.lr, p.loss[#p.loss]))
end
print("\npictures: " .. out .. "/optimizers.png, " .. out .. "/optimizers_bowl.png")
