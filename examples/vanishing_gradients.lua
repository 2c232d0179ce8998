-- Vanishing gradients: a deep network of sigmoid layers next to the same
-- network with relu. Backpropagation multiplies the gradient by f'(z) at
-- every layer; sigmoid's derivative is at most 0.25, so after eight layers
-- the first one gets almost nothing and learns almost nothing. A
-- GradientLogger records each layer's gradient norm per epoch and
-- nn.plot.gradients draws them (log scale: each line is one layer).
-- Prints the first layer's gradient norm of each network.
-- Teaches: the chain rule through many layers, why relu (derivative 1
-- where active) trains deep networks, reading a gradient plot.
-- Runs in: about 1 s
--
--   nnlua examples/vanishing_gradients.lua [dir]    pictures into dir (default out)
local out = "out"
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

nn.seed(2)
local x, y = nn.data.moons(256, 0.1)
y = y - 1 -- classes 1, 2 as the labels 0, 1 of a sigmoid output
local DEPTH, EPOCHS = 8, 20

local results = {}
for _, act in ipairs{"sigmoid", "relu"} do
  nn.seed(1)
  local layers = {}
  for i = 1, DEPTH do
    layers[i] = nn.Dense(16, {input_dim = i == 1 and 2 or nil, activation = act,
                              name = string.format("dense%d", i)})
  end
  layers[DEPTH + 1] = nn.Dense(1, {activation = "sigmoid", name = "output"})
  local model = nn.Sequential(layers)
  model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.1},
                metrics = {"accuracy"}}
  local logger = nn.callbacks.GradientLogger()
  local h = model:fit(x, y, {epochs = EPOCHS, batch_size = 32, verbose = 0,
                             callbacks = {logger}})
  local norms = logger.history.norms
  local first, last = norms.dense1[1], norms.output[1]
  results[#results + 1] = {act = act, first = first, last = last,
                           acc = h.history.accuracy[EPOCHS]}
  nn.plot.gradients(logger, {title = string.format("%d %s layers: gradient norm per layer",
                                                   DEPTH, act),
                             file = out .. "/gradients_" .. act .. ".png"})
end
for _, r in ipairs(results) do
  print(string.format("vanishing_gradients: %-7s first-layer gradient norm %.2e, " ..
                      "output layer %.2e (ratio %.1e), accuracy after %d epochs %.3f",
                      r.act, r.first, r.last, r.first / r.last, EPOCHS, r.acc))
end
