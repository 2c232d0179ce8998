-- Learning rates: the same network from the same starting weights trained
-- by plain SGD with a learning rate too small, about right and too large,
-- on the two moons. The three loss histories go on one plot (log scale).
-- Teaches: w <- w - lr * dL/dw; too small crawls, too large jumps over
-- the valley and the loss bounces high; the learning rate is the first
-- thing to tune.
-- Runs in: about 1 s
--
--   nnlua examples/learning_rates.lua [dir]    pictures into dir (default out)
local out = "out"
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

nn.seed(3)
local x, y = nn.data.moons(200, 0.15)
y = y - 1 -- classes 1, 2 as the labels 0, 1 of a sigmoid output

local EPOCHS = 30
local runs = {
  {lr = 0.01, what = "too small"},
  {lr = 1, what = "about right"},
  {lr = 20, what = "too large"},
}
local curves, names = {}, {}
for i, r in ipairs(runs) do
  nn.seed(1) -- the same initial weights and batch order for every run
  local model = nn.Sequential{
    nn.Dense(16, {input_dim = 2, activation = "tanh"}),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = r.lr},
                metrics = {"accuracy"}}
  local h = model:fit(x, y, {epochs = EPOCHS, batch_size = 20, verbose = 0})
  curves[i] = h.history.loss
  names[i] = string.format("lr = %g (%s)", r.lr, r.what)
  print(string.format("learning_rates: lr %-5g %-12s final loss %.4f, accuracy %.3f",
                      r.lr, r.what, h.history.loss[EPOCHS], h.history.accuracy[EPOCHS]))
end

local epochs = {}
for e = 1, EPOCHS do epochs[e] = e end
nn.plot.lines(epochs, curves, {names = names, logy = true,
                               title = "the same model, three learning rates (SGD)",
                               xlabel = "epoch", ylabel = "training loss (log scale)",
                               file = out .. "/learning_rates.png"})
