-- Activation functions: the a = f(z) of every neuron. Draws each activation
-- of nn.registry (softmax aside: it acts on a whole row) with its
-- derivative f'(z), the factor backpropagation multiplies the gradient by,
-- and prints a table of f(z) for a few z.
-- Teaches: what each activation does to its input, where its derivative
-- is zero (saturation: sigmoid and tanh for large |z|, relu for z < 0).
-- Runs in: about 2 s
--
--   nnlua examples/activations.lua [dir]    pictures into dir (default out)
local out = "out"
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

local names = {}
for _, a in ipairs(nn.registry.activations) do
  if a.name ~= "softmax" then names[#names + 1] = a.name end
end

-- The four classic ones together (relu drawn last: for z > 0 it is the
-- same line as leaky_relu and would hide under it), then each with its
-- derivative alone (a function and its derivative in one picture are easy
-- to tell apart).
nn.plot.activations({"sigmoid", "tanh", "leaky_relu", "relu"},
                    {derivative = false, title = "four activation functions",
                     ylabel = "f(x)",
                     file = out .. "/activations.png"})
-- the constants the registry's formulas name, at nnlua's (Keras's) defaults
local constants = {leaky_relu = " (negative_slope = 0.2)", elu = " (alpha = 1)"}
for _, name in ipairs(names) do
  nn.plot.activations(name, {title = name .. (constants[name] or "") .. " and its derivative",
                             file = out .. "/activation_" .. name .. ".png"})
end

local zs = {-3, -1, -0.5, 0, 0.5, 1, 3}
local z = nn.tensor(zs)
io.write(string.format("%-13s", "f(z)  z ="))
for _, v in ipairs(zs) do io.write(string.format("%8.1f", v)) end
io.write("\n")
for _, name in ipairs(names) do
  local a = z:act(name):totable()
  io.write(string.format("%-13s", name))
  for _, v in ipairs(a) do io.write(string.format("%8.3f", v)) end
  io.write("\n")
end
print(string.format("activations: %d functions drawn into %s/", #names, out))
