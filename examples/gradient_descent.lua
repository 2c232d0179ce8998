-- Teaches: gradient descent, w <- w - lr * dL/dw, on a loss of two weights:
--   three steps worked out by hand next to what nn.optimizers.SGD does, then
--   the paths of plain gradient descent on a bowl with a learning rate too
--   small (crawls), about right, and too large (zigzags across the bowl),
--   and on a curved valley (Rosenbrock's), where it first falls to the floor
--   and then creeps along it.
-- Runs in: about 1 s
-- Usage: nnlua examples/gradient_descent.lua [outdir]   (PNGs go to outdir, default "out")
local out = "out" -- the first argument that is not an option (--quick)
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

-- A bowl, ten times steeper along w2 than along w1: L = w1^2 + 10 w2^2.
-- Its gradient is (2 w1, 20 w2).
local function bowl(w1, w2) return w1 ^ 2 + 10 * w2 ^ 2 end

-- Three steps by hand, and the same three by the optimizer on two tensors.
print("gradient descent on L = w1^2 + 10 w2^2 from (1.5, 1.0) with lr 0.04")
local w1, w2, lr = 1.5, 1.0, 0.04
local paths = nn.plot.loss_surface(bowl, {start = {1.5, 1.0}, steps = 3, render = false,
                                          optimizers = {{name = "sgd", lr = lr}}})
for step = 1, 3 do
  local g1, g2 = 2 * w1, 20 * w2
  w1, w2 = w1 - lr * g1, w2 - lr * g2
  local p = paths.sgd.points[step + 1]
  print(string.format("step %d: grad (%6.3f, %6.3f) -> w (%.4f, %.4f)   nn.optimizers.SGD: " ..
                      "(%.4f, %.4f)", step, g1, g2, w1, w2, p[1], p[2]))
end

-- Learning rates: the bowl is stable for lr < 2 / 20 = 0.1 (the steep
-- direction's curvature is 20); near that, each step overshoots the floor.
local rates = {{name = "sgd", lr = 0.01, label = "too small"},
               {name = "sgd", lr = 0.045, label = "about right"},
               {name = "sgd", lr = 0.098, label = "too large"}}
paths = nn.plot.loss_surface(bowl, {start = {1.8, 1.5}, steps = 40, optimizers = rates,
                                    resolution = 90, title = "gradient descent on a bowl: " ..
                                    "three learning rates",
                                    file = out .. "/gd_bowl.png"})
print("\n40 steps on the bowl from (1.8, 1.5):")
for _, p in ipairs(paths) do
  print(string.format("  %-12s lr %-6g loss %8.4f -> %.6f", p.name, p.lr, p.loss[1],
                      p.loss[#p.loss]))
end

-- A curved valley: steep walls, a flat floor bending to the minimum (1, 1).
local function valley(a, b) return (1 - a) ^ 2 + 10 * (b - a ^ 2) ^ 2 end
paths = nn.plot.loss_surface(valley, {range = {-2, 2, -1, 3}, start = {-1.6, 2.6},
                                      steps = 300, resolution = 90,
                                      optimizers = {{name = "sgd", lr = 0.001, label = "small steps"},
                                                    {name = "sgd", lr = 0.008, label = "larger steps"}},
                                      title = "gradient descent in a curved valley (minimum at 1, 1)",
                                      file = out .. "/gd_valley.png"})
print("\n300 steps in the valley from (-1.6, 2.6):")
for _, p in ipairs(paths) do
  local e = p.points[#p.points]
  print(string.format("  %-9s lr %-6g ends at (%.3f, %.3f), loss %.4f", p.name, p.lr, e[1],
                      e[2], p.loss[#p.loss]))
end
print("\npictures: " .. out .. "/gd_bowl.png, " .. out .. "/gd_valley.png")
