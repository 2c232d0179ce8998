-- Model files from Lua: model:save / nn.load give a model that predicts
-- bit-identically, keeps its name, layers and compile settings; fit k
-- epochs + save + load + fit m equals fit k+m (shuffle off) and equals
-- fitting on without the round trip (shuffle on, same seed); errors of
-- save and load; ModelCheckpoint with {epoch} paths and save_best_only.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

local base = os.tmpname()
local created = {}
local function tmp(name)
  local p = base .. "_" .. name
  created[#created + 1] = p
  return p
end

local function same_tensor(a, b, what)
  local ta, tb = a:totable(), b:totable()
  check(H.eq(ta, tb, 0), what .. ": tensors differ")
end

local function same_weights(ma, mb, what)
  local wa, wb = ma:get_weights(), mb:get_weights()
  check(#wa == #wb and #wa > 0, what .. ": weight counts " .. #wa .. " vs " .. #wb)
  for i = 1, #wa do same_tensor(wa[i], wb[i], what .. " weight " .. i) end
end

local function data(n)
  local x = nn.rand(n, 6)
  local y = nn.zeros(n, 1)
  for i = 1, n do y:set(i, 1, x:get(i, 1) + x:get(i, 2) > 1 and 1 or 0) end
  return x, y
end

local function model(opt)
  local m = nn.Sequential({
    nn.Dense(8, {input_dim = 6, activation = "relu", kernel_regularizer = {l2 = 1e-3}}),
    nn.BatchNormalization({momentum = 0.9}),
    nn.Dropout(0.2),
    nn.Dense(4, {use_bias = false}),
    nn.Activation("elu"),
    nn.Dense(1, {activation = "sigmoid", name = "out"}),
  }, {name = "tester"})
  m:compile{loss = "binary_crossentropy", optimizer = opt or "adam", metrics = {"accuracy"}}
  return m
end

-- Save and load: same predictions, names, settings.
do
  nn.seed(4)
  local x, y = data(50)
  local m = model()
  m:fit(x, y, {epochs = 3, batch_size = 16, verbose = 0})
  local path = tmp("a.safetensors")
  check(m:save(path) == m, "save returns the model")
  local m2 = nn.load(path)
  same_tensor(m:predict(x), m2:predict(x), "predict after load")
  same_weights(m, m2, "weights after load")
  check(m2.name == "tester", "model name: " .. tostring(m2.name))
  check(m2.compiled and m2.built, "loaded model is built and compiled")
  -- model.optimizer: the name, or a view of the optimizer with .name
  local oname = type(m2.optimizer) == "string" and m2.optimizer or m2.optimizer.name
  check(m2.loss == "binary_crossentropy" and oname == "adam", "compile settings")
  check(m2.metrics[1] == "accuracy", "metrics")
  check(#m2.layers == 6, "layer count")
  check(m2.layers[6].name == "out" and m2.layers[6].activation == "sigmoid", "layer 6")
  check(m2.layers[2].type == "BatchNormalization", "layer 2 type")
  check(m2.layers[3].rate == 0.2, "dropout rate, as given: " .. m2.layers[3].rate)
  check(m2.layers[1].l2 == H.f32(1e-3), "regularizer")
  local l1, a1 = m:evaluate(x, y)
  local l2, a2 = m2:evaluate(x, y)
  check(l1 == l2 and a1.accuracy == a2.accuracy, "evaluate after load")
  -- the functional forms
  nn.save(m2, path)
  same_tensor(nn.load(path):predict(x), m:predict(x), "nn.save")
end

-- Resume: fit k, save, load, fit m == fit k+m (shuffle off), for every
-- optimizer.
for _, opt in ipairs({"sgd", "adam", "adamw", "rmsprop", "adagrad",
                      nn.optimizers.SGD{lr = 0.05, momentum = 0.9, nesterov = true},
                      nn.optimizers.RMSprop{momentum = 0.5, centered = true}}) do
  nn.seed(9)
  local x, y = data(40)
  nn.seed(10)
  local whole = model(opt)
  whole:fit(x, y, {epochs = 5, batch_size = 8, shuffle = false, verbose = 0})
  nn.seed(10)
  local part = model(opt)
  part:fit(x, y, {epochs = 2, batch_size = 8, shuffle = false, verbose = 0})
  local path = tmp("resume.safetensors")
  part:save(path)
  local back = nn.load(path)
  back:fit(x, y, {epochs = 5, initial_epoch = 2, batch_size = 8, shuffle = false, verbose = 0})
  same_weights(whole, back, "resume with " .. tostring(opt))
  same_tensor(whole:predict(x), back:predict(x), "resume predict " .. tostring(opt))
end

-- Shuffle on: a save/load in the middle changes nothing.
do
  nn.seed(21)
  local x, y = data(40)
  local a = model()
  a:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  local path = tmp("shuffle.safetensors")
  a:save(path)
  local b = nn.load(path)
  nn.seed(22)
  a:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  nn.seed(22)
  b:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  same_weights(a, b, "shuffled resume")
  -- loading does not move nn.seed's stream
  nn.seed(5)
  local r1 = nn.rand(3):totable()
  nn.seed(5)
  nn.load(path)
  local r2 = nn.rand(3):totable()
  check(H.eq(r1, r2, 0), "nn.load changed the global generator")
end

-- Uncompiled and unbuilt models.
do
  local m = nn.Sequential({nn.Dense(3, {input_dim = 2}), nn.Dense(2, "softmax")})
  local path = tmp("plain.safetensors")
  m:save(path)
  local m2 = nn.load(path)
  check(m2.built and not m2.compiled, "uncompiled model loads uncompiled")
  local x = nn.rand(4, 2)
  same_tensor(m:predict(x), m2:predict(x), "uncompiled predict")
  local u = nn.Sequential({nn.Dense(3), nn.Dense(1)})
  u:save(path)
  local u2 = nn.load(path)
  check(not u2.built and #u2.layers == 2, "unbuilt model loads unbuilt")
  check(#u2:predict(nn.rand(5, 7)) == 5, "unbuilt model builds on first use")
end

-- Errors.
do
  checkerr("cannot open", nn.load, tmp("missing.safetensors"))
  local bad = tmp("bad.safetensors")
  local f = assert(io.open(bad, "wb"))
  f:write(string.pack("<I8", 1000), "{}")
  f:close()
  checkerr("beyond the end of the file", nn.load, bad)
  f = assert(io.open(bad, "wb"))
  f:write(string.pack("<I8", 2), "{}")
  f:close()
  checkerr("no architecture", nn.load, bad)
  local m = nn.Sequential({nn.Dense(1, {input_dim = 1})})
  checkerr("save: cannot create", m.save, m, base .. "_no_such_dir/x/m.safetensors")
  checkerr("no layers", nn.Sequential().save, nn.Sequential(), tmp("empty.safetensors"))
  checkerr("nn.load: path must be a string, got no value", nn.load)
  m.epochs_done = -1
  checkerr("epochs_done", m.save, m, tmp("e.safetensors"))
end

-- fit records the epochs it has done on the model, into the file, so the
-- docs' resume (initial_epoch = m.epochs_done) goes on from there; also
-- after EarlyStopping ends a fit early.
do
  nn.seed(2)
  local x, y = nn.rand(16, 2), nn.rand(16, 1)
  local m = nn.Sequential({nn.Dense(1, {input_dim = 2})})
  m:compile{loss = "mse", optimizer = "sgd"}
  check(m.epochs_done == nil, "no epochs before fit")
  m:fit(x, y, {epochs = 3, verbose = 0})
  check(m.epochs_done == 3, "3 epochs done")
  local path = tmp("resume.safetensors")
  m:save(path)
  local r = nn.load(path)
  check(r.epochs_done == 3, "the file keeps them")
  local seen = {}
  local h = r:fit(x, y, {epochs = 5, initial_epoch = r.epochs_done, verbose = 0,
                         callbacks = {{on_epoch_end = function(e) seen[#seen + 1] = e end}}})
  check(#seen == 2 and seen[1] == 4 and seen[2] == 5 and r.epochs_done == 5,
        "resumed at epoch 4 and ran to 5")
  check(#h.history.loss == 2, "two epochs in the history")
  local stop = {on_epoch_end = function(e) if e == 7 then r.stop_training = true end end}
  r:fit(x, y, {epochs = 20, initial_epoch = r.epochs_done, verbose = 0, callbacks = {stop}})
  check(r.epochs_done == 7, "a fit stopped at epoch 7 records 7, got " .. tostring(r.epochs_done))
end

-- ModelCheckpoint: a file per epoch with {epoch}; save_best_only keeps the
-- best epoch's model (by val_loss), and epochs_done tells which.
do
  nn.seed(31)
  local x, y = data(60)
  local m = model()
  local pat = base .. "_ck_{epoch:02d}.safetensors"
  local every = nn.callbacks.ModelCheckpoint{pat, save_best_only = false}
  local bestpath = tmp("best.safetensors")
  local best = nn.callbacks.ModelCheckpoint{bestpath, monitor = "val_loss",
                                            save_best_only = true}
  local h = m:fit(x, y, {epochs = 6, batch_size = 8, validation_split = 0.25, verbose = 0,
                         callbacks = {every, best}})
  for e = 1, 6 do
    local p = string.format("%s_ck_%02d.safetensors", base, e)
    created[#created + 1] = p
    local me = nn.load(p)
    check(me.epochs_done == e, "checkpoint " .. e .. " has epochs_done " .. me.epochs_done)
  end
  local vl = h.history.val_loss
  local want = 1
  for e = 2, #vl do if vl[e] < vl[want] then want = e end end
  check(best.best_epoch == want, "best epoch " .. tostring(best.best_epoch) .. " vs " .. want)
  local mb = nn.load(bestpath)
  check(mb.epochs_done == want, "best file epochs_done")
  -- the saved model is the one of that epoch: its validation loss matches
  local vx, vy = x:rows(46, 60), y:rows(46, 60)
  local l = mb:evaluate(vx, vy, {batch_size = 8})
  check(math.abs(l - vl[want]) <= 1e-6 * math.max(1, math.abs(l)),
        "best model's val_loss " .. l .. " vs history " .. vl[want])
  -- the last epoch's file is the final model
  same_weights(m, nn.load(string.format("%s_ck_%02d.safetensors", base, 6)), "last checkpoint")
  -- a monitored value not in the logs, bad options
  local cb = nn.callbacks.ModelCheckpoint{tmp("x.safetensors"), monitor = "val_nope",
                                          save_best_only = true}
  checkerr("monitor 'val_nope' is not in the logs", m.fit, m, x, y,
           {epochs = 1, verbose = 0, validation_split = 0.25, callbacks = {cb}})
  checkerr("unknown option 'save_weights_only'", nn.callbacks.ModelCheckpoint,
           {"p", save_weights_only = true})
  checkerr("mode must be", nn.callbacks.ModelCheckpoint, {"p", mode = "best"})
  checkerr("file path", nn.callbacks.ModelCheckpoint, {monitor = "loss"})
  local cb2 = nn.callbacks.ModelCheckpoint{base .. "_{nope}.safetensors"}
  checkerr("{nope}", m.fit, m, x, y, {epochs = 1, verbose = 0, callbacks = {cb2}})
  -- a value with no whole-number form for a d format: a clear error
  local cb4 = nn.callbacks.ModelCheckpoint{base .. "_{loss:03d}.safetensors"}
  local nan_cb = {on_epoch_end = function(_, logs) logs.loss = 0 / 0 end}
  checkerr("nan is not a whole number", m.fit, m, x, y,
           {epochs = 1, verbose = 0, callbacks = {nan_cb, cb4}})
  -- a log value in the name
  local cb3 = nn.callbacks.ModelCheckpoint{base .. "_l{loss:.3f}.safetensors"}
  local h3 = m:fit(x, y, {epochs = 1, verbose = 0, callbacks = {cb3}})
  local p3 = string.format("%s_l%.3f.safetensors", base, h3.history.loss[1])
  created[#created + 1] = p3
  check(cb3.last_saved == p3 and io.open(p3, "rb") ~= nil, "log value in the path: " .. tostring(cb3.last_saved))
end

for _, p in ipairs(created) do os.remove(p) end
os.remove(base)
print("test_modelfile: ok")
