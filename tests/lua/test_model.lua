-- Models from Lua: the seed example, summary/param counts, layers and
-- weights, predict/evaluate, the functional forms, History, determinism,
-- validation_split, Dropout/BatchNormalization modes.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

-- The seed example of API.md (minus plots).
do
  nn.seed(1)
  local x_train = nn.rand(100, 20)
  local y_train = nn.rand(100, 1)
  local model = nn.Sequential()
  model:add(nn.Dense(32, {input_dim = 20, activation = "relu"}))
  model:add(nn.Dense(1, {activation = "sigmoid"}))
  model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
  local history = model:fit(x_train, y_train, {epochs = 10, batch_size = 32, verbose = 0})
  check(#history.history.loss == 10, "10 losses")
  check(#history.history.accuracy == 10, "10 accuracies")
  check(history.epoch[1] == 1 and history.epoch[10] == 10, "epochs numbered 1..10")
  check(history.history.loss[10] < history.history.loss[1], "loss goes down")
  check(history.history.val_loss == nil, "no validation without split")
  check(tostring(history):find("10 epochs", 1, true), "History tostring")
  check(history:last("loss") == history.history.loss[10], "history:last")
  local p = history.params
  check(p.epochs == 10 and p.batch_size == 32 and p.steps == 4 and p.verbose == 0,
        "history.params as Keras (4 steps of 32 for 100 samples)")
end

-- summary: Keras's table and parameter counts; returned as a string.
do
  local model = nn.Sequential({
    nn.Dense(32, {input_dim = 20, activation = "relu", name = "hidden"}),
    nn.BatchNormalization(),
    nn.Dropout(0.5),
    nn.Dense(1, "sigmoid"),
  })
  local real = io.output()
  io.output():flush()
  local s = model:summary{print = false}
  check(s:find("hidden (Dense)", 1, true), "named layer in summary")
  check(s:find("(None, 32)", 1, true), "output shape in summary")
  check(s:find("672", 1, true), "Dense(32, input 20) has 672 params")
  check(s:find("Total params: 833", 1, true), "total params: " .. s)
  check(s:find("Trainable params: 769", 1, true), "trainable params")
  -- printing returns nothing, so the REPL shows the table once
  check(select("#", model:summary()) == 0, "summary() prints and returns nothing")
  H.checkerr("summary: unknown option 'prnt'", model.summary, model, {prnt = false})
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local p = io.popen("printf 'm = nn.Sequential{nn.Dense(2, {input_dim = 3})}\\nm:summary()\\n' | '" ..
                     bin .. "' -i 2>&1")
  local out = p:read("a")
  p:close()
  local _, n = out:gsub("Total params: 8", "")
  check(n == 1, "the REPL shows the summary once:\n" .. out)
  check(s:find("Non-trainable params: 64", 1, true), "BN moving stats are not trainable")
  check(model:count_params() == 833, "count_params")
  check(#model.layers == 4, "model.layers")
  check(model.layers[1].name == "hidden" and model.layers[1].units == 32, "layer fields")
  check(model.layers[1].activation == "relu", "layer activation")
  check(model.layers[3].rate == 0.5, "dropout rate")
  check(model.layers[1]:count_params() == 672, "layer count_params")
  local w = model.layers[1]:get_weights()
  check(#w == 2, "kernel and bias")
  local r, c = w[1]:shape()
  check(r == 20 and c == 32, "kernel 20x32")
  check(w[2]:numel() == 32 and w[2]:sum() == 0, "bias zeros")
  check(#model.layers[2]:get_weights() == 4, "BN: gamma, beta, moving mean, variance")
  io.output(real)
end

-- Unbuilt models infer the input size from the data; predict shapes.
do
  nn.seed(2)
  local model = nn.Sequential()
  model:add(nn.Dense(4, {activation = "tanh"}))
  model:add(nn.Dense(3, {activation = "softmax"}))
  check(not model.built, "not built before data")
  check(#model.layers[1]:get_weights() == 0, "unbuilt layer has no weights")
  local x = nn.rand(7, 5)
  local p = model:predict(x)
  local r, c = p:shape()
  check(r == 7 and c == 3, "predict is 7x3")
  check(model.built, "built by predict")
  local sums = p:sum(2)
  for i = 1, 7 do check(math.abs(sums[i] - 1) < 1e-5, "softmax rows sum to 1") end
  check(model.input_shape[1] == 5, "input shape 5")
  check(model.output_shape[1] == 3, "output shape 3")
end

-- get_weights / set_weights round trip, and predict reflects set weights.
do
  nn.seed(3)
  local m = nn.Sequential({nn.Dense(2, {input_dim = 3})})
  local w = m:get_weights()
  w[1] = nn.ones(3, 2)
  w[2] = nn.tensor({0.5, -1})
  m:set_weights(w)
  local p = m:predict(nn.tensor({{1, 2, 3}}))
  check(p:get(1, 1) == 6.5 and p:get(1, 2) == 5, "x W + b with set weights")
  checkerr("kernel expects shape [3x2], got [2x3]", m.set_weights, m, {nn.ones(2, 3), w[2]})
  checkerr("has 2 weight arrays, got 1", m.set_weights, m, {w[1]})
  -- A failed set_weights changes nothing.
  pcall(m.set_weights, m, {nn.zeros(3, 2), nn.ones(5)})
  check(m:get_weights()[1]:sum() == 6, "weights unchanged after a failed set")
  m.layers[1]:set_weights({nn.zeros(3, 2), nn.zeros(2)})
  check(m:predict(nn.ones(1, 3)):sum() == 0, "layer:set_weights")
end

-- Functional forms: nn.compile(model, ...), nn.fit(model, ...).
do
  nn.seed(4)
  local x = nn.rand(40, 2)
  local y = nn.tensor((function()
    local t = {}
    for i = 1, 40 do t[i] = x:get(i, 1) > 0.5 and 1 or 0 end
    return t
  end)())
  local m = nn.Sequential({nn.Dense(1, {input_dim = 2, activation = "sigmoid"})})
  nn.compile(m, {loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.5},
                 metrics = {"accuracy", "precision", "recall"}})
  local h = nn.fit(m, x, y, {epochs = 30, batch_size = 8, verbose = 0})  -- y is 1-D
  check(#h.history.precision == 30 and #h.history.recall == 30, "precision/recall logged")
  local loss, metrics = nn.evaluate(m, x, y)
  check(type(loss) == "number" and metrics.accuracy > 0.8, "learns a threshold: " ..
        tostring(metrics.accuracy))
  check(metrics.precision > 0 and metrics.recall > 0, "precision and recall")
  check(m.optimizer.name == "sgd" and m.loss == "binary_crossentropy", "compile settings")
end

-- validation_split takes the LAST samples: the last epoch's val_loss equals
-- evaluate on the last rows.
do
  nn.seed(5)
  local x, y = nn.rand(50, 3), nn.rand(50, 1)
  local m = nn.Sequential({nn.Dense(1, {input_dim = 3})})
  m:compile{loss = "mse", optimizer = "sgd", metrics = {"mae"}}
  local h = m:fit(x, y, {epochs = 3, batch_size = 10, validation_split = 0.2, verbose = 0})
  local vl, vm = m:evaluate(x:rows(41, 50), y:rows(41, 50))
  check(math.abs(h.history.val_loss[3] - vl) < 1e-6, "val_loss is on the last 10 rows")
  check(math.abs(h.history.val_mae[3] - vm.mae) < 1e-6, "val_mae too")
  -- validation_data
  local h2 = m:fit(x, y, {epochs = 2, validation_data = {x:rows(1, 5), y:rows(1, 5)},
                          verbose = 0})
  check(#h2.history.val_loss == 2, "validation_data")
end

-- Same seed, same history (shuffling, dropout, initial weights).
do
  local function run(seed)
    nn.seed(seed)
    local x = nn.rand(64, 4)
    local y = (x:sum(2) / 4):reshape(64, 1)
    local m = nn.Sequential({nn.Dense(8, {input_dim = 4, activation = "relu"}),
                             nn.Dropout(0.2), nn.BatchNormalization(), nn.Dense(1)})
    m:compile{loss = "mse", optimizer = "adam"}
    return m:fit(x, y, {epochs = 5, batch_size = 16, validation_split = 0.25, verbose = 0})
  end
  local a, b, c = run(11), run(11), run(12)
  for e = 1, 5 do
    check(a.history.loss[e] == b.history.loss[e], "same seed, same loss")
    check(a.history.val_loss[e] == b.history.val_loss[e], "same seed, same val_loss")
  end
  check(a.history.loss[5] ~= c.history.loss[5], "another seed differs")
end

-- Dropout only while training; BatchNormalization uses running statistics
-- in inference.
do
  nn.seed(6)
  local m = nn.Sequential({nn.Dropout(0.5, {input_dim = 100})})
  m:compile{loss = "mse"}
  local x = nn.ones(4, 100)
  check(m:predict(x):sum() == 400, "dropout is the identity in predict")
  local bn = nn.Sequential({nn.BatchNormalization({input_dim = 2})})
  local xb = nn.tensor({{10, 1}, {12, 1}})
  local p = bn:predict(xb)
  -- fresh moving mean 0, variance 1: y = x / sqrt(1 + 1e-3)
  check(math.abs(p:get(1, 1) - 10 / math.sqrt(1.001)) < 1e-4, "BN inference uses moving stats")
end

-- Flatten of multi-dimensional input, Dense on the last axis.
do
  nn.seed(7)
  local m = nn.Sequential({nn.Flatten({input_shape = {2, 3}}), nn.Dense(2)})
  local x = nn.rand(5, 2, 3)
  local r, c = m:predict(x):shape()
  check(r == 5 and c == 2, "flatten 2x3 then Dense(2)")
  check(m.layers[2]:count_params() == 14, "Dense(2) on 6 inputs")
end

-- predict and evaluate run in batches: the batch size changes nothing
-- (inference mode: BatchNormalization's moving statistics, no Dropout).
do
  nn.seed(4)
  local m = nn.Sequential({nn.Dense(8, {input_dim = 3, activation = "relu"}),
                           nn.BatchNormalization(), nn.Dropout(0.5),
                           nn.Dense(2, {activation = "softmax"})})
  m:compile{loss = "categorical_crossentropy", metrics = {"accuracy"}}
  local x, y = nn.rand(50, 3), nn.data.one_hot(nn.randint(1, 2, {50}), 2)
  m:fit(x, y, {epochs = 2, verbose = 0})
  local a, b = m:predict(x, {batch_size = 7}), m:predict(x, {batch_size = 64})
  local d = a - b
  check((d * d):sum() == 0 and #a == 50, "predict: same rows whatever the batch size")
  local l1, m1 = m:evaluate(x, y, {batch_size = 7})
  local l2, m2 = m:evaluate(x, y, {batch_size = 50})
  check(math.abs(l1 - l2) < 1e-6 and m1.accuracy == m2.accuracy, "evaluate too")
end

-- The functional forms of methods that layers share take layers too.
do
  local m = nn.Sequential({nn.Dense(3, {input_dim = 4}), nn.Dense(2)})
  local l = m.layers[2]
  check(nn.count_params(l) == 8 and nn.count_params(m) == 23, "nn.count_params")
  local w = nn.get_weights(l)
  check(#w == 2 and #nn.get_weights(m) == 4, "nn.get_weights of a layer and a model")
  w[1] = w[1] * 0 + 1
  nn.set_weights(l, w)
  check(m:get_weights()[3]:sum() == 6, "nn.set_weights of a layer")
  checkerr("bad argument #1 to 'nn.get_weights' (nn.Model expected, got number)",
           nn.get_weights, 3)
end

-- model.optimizer: a live view of the compiled optimizer (as Keras's
-- model.optimizer); only the learning rate can be set, and it is the rate
-- the next steps use (the same one LearningRateScheduler changes).
do
  nn.seed(2)
  local x, y = nn.rand(16, 2), nn.rand(16, 1)
  local m = nn.Sequential({nn.Dense(1, {input_dim = 2})})
  check(m.optimizer == nil, "no optimizer before compile")
  m:compile{loss = "mse", optimizer = nn.optimizers.RMSprop{learning_rate = 0.01,
                                                            momentum = 0.9, centered = true}}
  local o = m.optimizer
  check(o.name == "rmsprop" and o.class == "RMSprop", "name and class")
  check(o.lr == 0.01 and o.learning_rate == 0.01, "lr and learning_rate")
  check(o.momentum == 0.9 and o.centered == true and o.rho == 0.9, "RMSprop settings")
  check(o.beta1 == nil and o.nesterov == nil, "no settings of other rules")
  check(o.iterations == 0, "no steps yet")
  check(tostring(o):find("nn.optimizers.RMSprop{learning_rate=0.01", 1, true), tostring(o))
  m:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  check(o.iterations == 4, "4 steps, got " .. tostring(o.iterations))
  o.learning_rate = 0.05
  check(m:get_learning_rate() == 0.05 and m.optimizer.lr == 0.05, "set through the view")
  m.optimizer.lr = 0.02
  check(o.learning_rate == 0.02, "the view is live")
  -- A step with lr 0 would not move: the set rate is the one used.
  local w0 = m:get_weights()[1]:clone()
  m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0})
  local d = m:get_weights()[1] - w0
  check((d * d):sum() > 0, "trains with the new rate")
  checkerr("cannot be set", function() o.momentum = 0.5 end)
  checkerr("must be a number > 0", function() o.lr = 0 end)
  checkerr("must be a number > 0", function() o.learning_rate = "x" end)
  checkerr("read-only", function() m.optimizer = "sgd" end)
  m:compile{loss = "mse", optimizer = "sgd"}
  check(o.name == "sgd" and o.lr == 0.01 and o.momentum == 0 and o.nesterov == false,
        "a view follows a new compile")
  -- RMSprop with momentum and centered trains, and differs from plain RMSprop
  local function run(opt)
    nn.seed(3)
    local mm = nn.Sequential({nn.Dense(4, {input_dim = 2, activation = "tanh"}), nn.Dense(1)})
    mm:compile{loss = "mse", optimizer = opt}
    return mm:fit(x, y, {epochs = 20, batch_size = 4, verbose = 0, shuffle = false})
  end
  local plain = run(nn.optimizers.RMSprop{lr = 0.01})
  local mom = run(nn.optimizers.RMSprop{lr = 0.01, momentum = 0.5})
  local cen = run(nn.optimizers.RMSprop{lr = 0.01, centered = true})
  check(mom.history.loss[20] < mom.history.loss[1], "momentum RMSprop learns")
  check(cen.history.loss[20] < cen.history.loss[1], "centered RMSprop learns")
  check(mom.history.loss[20] ~= plain.history.loss[20] and
        cen.history.loss[20] ~= plain.history.loss[20], "the options change the steps")
  checkerr("centered", nn.optimizers.RMSprop, {centered = 1})
  checkerr("momentum must be in", function()
    local mm = nn.Sequential({nn.Dense(1, {input_dim = 2})})
    mm:compile{loss = "mse", optimizer = nn.optimizers.RMSprop{momentum = 1.5}}
  end)
end

print("test_model: ok")
