-- Overfitting and two cures. A network far too big for 30 noisy points of
-- the two moons learns them by heart: its training loss goes to zero while
-- the loss on 300 fresh points (validation) climbs. Dropout slows that
-- down; EarlyStopping{restore_best_weights = true} stops when the
-- validation loss has not improved for a while and goes back to the best
-- weights. Prints the validation losses, draws the loss curves and the
-- decision regions of the overfit and of the cured model.
-- Teaches: training loss is not the goal; validation data; Dropout;
-- EarlyStopping and patience.
-- Runs in: about 2 s
--
--   nnlua examples/overfitting.lua [dir]    pictures into dir (default out)
local out = "out"
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

nn.seed(5)
local x, y = nn.data.moons(30, 0.35)
local xv, yv = nn.data.moons(300, 0.35)
y, yv = y - 1, yv - 1 -- classes 1, 2 as the labels 0, 1 of a sigmoid output
local EPOCHS = 300

-- 2 -> 128 -> 128 -> 1: about 17000 weights for 30 points.
local function build(dropout)
  nn.seed(1) -- the same initial weights each time
  local layers = {nn.Dense(128, {input_dim = 2, activation = "relu"})}
  if dropout then layers[#layers + 1] = nn.Dropout(dropout) end
  layers[#layers + 1] = nn.Dense(128, {activation = "relu"})
  if dropout then layers[#layers + 1] = nn.Dropout(dropout) end
  layers[#layers + 1] = nn.Dense(1, {activation = "sigmoid"})
  local model = nn.Sequential(layers)
  model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.003},
                metrics = {"accuracy"}}
  return model
end

local function train(model, callbacks)
  return model:fit(x, y, {epochs = EPOCHS, batch_size = 30, verbose = 0,
                          validation_data = {xv, yv}, callbacks = callbacks})
end

local function best(list)
  local b, at = math.huge, 0
  for i, v in ipairs(list) do if v < b then b, at = v, i end end
  return b, at
end

local plain = build(false)
local hp = train(plain)
local lp, vp = hp.history.loss, hp.history.val_loss
local b, at = best(vp)
print(string.format("overfitting: plain    train loss %.4f, val loss %.4f after %d epochs " ..
                    "(best %.4f at epoch %d)", lp[#lp], vp[#vp], #vp, b, at))

local dropped = build(0.5)
local hd = train(dropped)
local vd = hd.history.val_loss
b, at = best(vd)
print(string.format("overfitting: dropout  train loss %.4f, val loss %.4f after %d epochs " ..
                    "(best %.4f at epoch %d)", hd.history.loss[#vd], vd[#vd], #vd, b, at))

local cured = build(0.5)
local stop = nn.callbacks.EarlyStopping{monitor = "val_loss", patience = 20,
                                        restore_best_weights = true}
local hc = train(cured, {stop})
local vloss = cured:evaluate(xv, yv)
print(string.format("overfitting: dropout + early stopping: stopped after %d epochs, " ..
                    "val loss %.4f with the best weights restored", #hc.history.val_loss, vloss))

local epochs = {}
for e = 1, EPOCHS do epochs[e] = e end
nn.plot.lines(epochs, {lp, vp, hd.history.loss, vd}, {
  names = {"no cure: training", "no cure: validation",
           "dropout 0.5: training", "dropout 0.5: validation"},
  title = "training loss falls, validation loss rises: overfitting",
  xlabel = "epoch", ylabel = "binary cross-entropy", file = out .. "/overfitting.png"})
nn.plot.decision_boundary(plain, xv, yv + 1, {title = "overfit: 300 epochs, no cure " ..
                          "(fresh points)", file = out .. "/overfit_regions.png"})
nn.plot.decision_boundary(cured, xv, yv + 1, {title = "dropout + early stopping " ..
                          "(fresh points)", file = out .. "/cured_regions.png"})
