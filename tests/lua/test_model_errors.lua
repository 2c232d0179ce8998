-- Every wrong use of the model API is a Lua error naming the function,
-- option or layer and the shapes; none crashes, and the model stays usable.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

nn.seed(1)
local function small()
  local m = nn.Sequential()
  m:add(nn.Dense(4, {input_dim = 3, activation = "relu"}))
  m:add(nn.Dense(2, {activation = "softmax"}))
  return m
end
local x, y2 = nn.rand(10, 3), nn.data.one_hot(nn.randint(1, 2, {10}), 2) -- one-hot targets

-- Layers: bad arguments and unknown names list the valid ones.
checkerr("nn.Dense: units must be an integer in 1..2147483647, got 0", nn.Dense, 0)
checkerr("nn.Dense: units must be an integer in 1..2147483647, got the string \"8\"",
         nn.Dense, "8")
-- Numbers that do not fit are reported as given, never cut to an int.
checkerr("nn.Dense: units must be an integer in 1..2147483647, got 4294967296",
         nn.Dense, 2^32)
checkerr("got 2.5", nn.Dense, 2.5)
checkerr("nan", nn.Dense, 0/0)
checkerr("unknown activation 'rleu' (valid: linear, relu", nn.Dense, 8, {activation = "rleu"})
checkerr("nn.Dense: unknown option 'activaton' (valid:", nn.Dense, 8, {activaton = "relu"})
checkerr("unknown kernel_initializer 'xavier' (valid: glorot_uniform",
         nn.Dense, 8, {kernel_initializer = "xavier"})
checkerr("option 'use_bias' must be true or false", nn.Dense, 8, {use_bias = 1})
checkerr("option 'input_dim' must be an integer in 1..2147483647, got 0", nn.Dense, 8,
         {input_dim = 0})
checkerr("option 'input_shape' must be an integer in 1..2147483647, got -1", nn.Dense, 3,
         {input_shape = -1})
checkerr("input_shape[2] must be an integer in 1..2147483647, got -1", nn.Dense, 3,
         {input_shape = {2, -1}})
checkerr("kernel_regularizer: unknown option 'l3'", nn.Dense, 8, {kernel_regularizer = {l3 = 1}})
checkerr("nn.Activation: unknown activation 'foo'", nn.Activation, "foo")
checkerr("nn.Dropout: rate must be in [0, 1), got 1", nn.Dropout, 1)
checkerr("nn.Dropout: rate must be a number", nn.Dropout, "half")
checkerr("nn.BatchNormalization: momentum must be in [0, 1]", nn.BatchNormalization,
         {momentum = 2})
checkerr("nn.BatchNormalization: unknown option 'eps'", nn.BatchNormalization, {eps = 1})
checkerr("nn.Sequential: expected a list of layers", nn.Sequential, 5)

-- add
do
  local m = small()
  checkerr("add: expected a layer", m.add, m, {})
  checkerr("already belongs to a model", m.add, m, m.layers[1])
  local other = nn.Sequential()
  checkerr("already belongs to a model", other.add, other, m.layers[2])
  -- a declared input size that does not match the previous layer
  checkerr("declared input shape (None, 5) but receives (None, 2)", m.add, m,
           nn.Dense(1, {input_dim = 5}))
  check(#m.layers == 2, "failed add leaves the model as it was")
end

-- compile
do
  local m = small()
  checkerr("fit: compile the model first", m.fit, m, x, y2)
  checkerr("evaluate: compile the model first", m.evaluate, m, x, y2)
  checkerr("compile: option 'loss' is required", m.compile, m, {optimizer = "adam"})
  checkerr("compile: unknown loss 'cross_entropy' (valid: mse, mae, huber",
           m.compile, m, {loss = "cross_entropy"})
  checkerr("compile: unknown optimizer 'adamax' (valid: sgd, adam, adamw, rmsprop, adagrad)",
           m.compile, m, {loss = "mse", optimizer = "adamax"})
  checkerr("unknown metric 'f1' (valid: accuracy", m.compile, m,
           {loss = "mse", metrics = {"f1"}})
  checkerr("compile: unknown option 'metric'", m.compile, m, {loss = "mse", metric = {}})
  checkerr("compile: expected an options table", m.compile, m, "mse")
  checkerr("sgd: lr must be > 0, got -1", m.compile, m,
           {loss = "mse", optimizer = nn.optimizers.SGD{lr = -1}})
  checkerr("nn.optimizers.Adam: unknown option 'beta_3'", nn.optimizers.Adam, {beta_3 = 1})
  checkerr("nn.optimizers.SGD: option 'nesterov' must be a boolean", nn.optimizers.SGD,
           {nesterov = 1})
  checkerr("sgd: momentum must be in [0, 1), got 1.5", m.compile, m,
           {loss = "mse", optimizer = nn.optimizers.SGD{momentum = 1.5}})
end

-- fit / evaluate / predict: shapes and options
do
  local m = small()
  m:compile{loss = "categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
  checkerr("fit: x has shape [10x4] but the model expects input (None, 3)",
           m.fit, m, nn.rand(10, 4), y2, {verbose = 0})
  checkerr("fit: x has 10 samples but y has 9", m.fit, m, x, nn.rand(9, 2), {verbose = 0})
  checkerr("categorical_crossentropy needs one-hot targets of 2 columns, y has shape [10]",
           m.fit, m, x, nn.ones(10), {verbose = 0})
  checkerr("fit: y has shape [10x3] but the model outputs (None, 2)",
           m.fit, m, x, nn.rand(10, 3), {verbose = 0})
  checkerr("fit: unknown option 'epoch' (valid: epochs, batch_size", m.fit, m, x, y2,
           {epoch = 3})
  checkerr("fit: option 'epochs' must be an integer >= 0, got 1.5", m.fit, m, x, y2,
           {epochs = 1.5})
  checkerr("fit: option 'batch_size' must be an integer >= 1", m.fit, m, x, y2,
           {batch_size = 0})
  checkerr("fit: option 'validation_split' must be in [0, 1), got 1", m.fit, m, x, y2,
           {validation_split = 1})
  checkerr("fit: option 'verbose' must be 0, 1 or 2", m.fit, m, x, y2, {verbose = 3})
  checkerr("fit: option 'validation_data' must be {x, y}", m.fit, m, x, y2,
           {validation_data = 5, verbose = 0})
  checkerr("fit: option 'callbacks' must be a list", m.fit, m, x, y2,
           {callbacks = 5, verbose = 0})
  checkerr("fit: callbacks[1] must be a table", m.fit, m, x, y2,
           {callbacks = {print}, verbose = 0})
  checkerr("fit: x must be an nn.Tensor, got string", m.fit, m, "x", y2, {verbose = 0})
  checkerr("fit: y is required", m.fit, m, x)
  checkerr("fit: validation_split 0.95 of 10 samples leaves 0 for training and 10",
           m.fit, m, x, y2, {validation_split = 0.95, verbose = 0})
  checkerr("predict: x has shape [2x2]", m.predict, m, nn.rand(2, 2))
  checkerr("predict: unknown option 'batch'", m.predict, m, x, {batch = 2})
  checkerr("evaluate: x has shape [10x7]", m.evaluate, m, nn.rand(10, 7), y2)
  -- sparse labels are 1-based class indices
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
  local y = nn.ones(10)
  y:set(4, 0)
  checkerr("fit: y[4] = 0 is not a class index 1..2 (labels are 1-based", m.fit, m, x, y,
           {verbose = 0})
  y:set(4, 3)
  checkerr("y[4] = 3 is not a class index 1..2", m.evaluate, m, x, y)
  y:set(4, 2)
  -- the model is still usable after all these errors
  local h = m:fit(x, y, {epochs = 2, verbose = 0})
  check(#h.history.loss == 2, "usable after errors")
  -- tables of numbers are accepted and converted
  local h2 = m:fit({{1, 2, 3}, {4, 5, 6}}, {1, 2}, {verbose = 0})
  check(#h2.history.loss == 1, "Lua tables as data")
  -- set_weights/get_weights checks
  checkerr("set_weights: the model has 4 weight arrays, got 0", m.set_weights, m, {})
  local unbuilt = nn.Sequential({nn.Dense(2)})
  checkerr("set_weights: the model is not built yet", unbuilt.set_weights, unbuilt, {})
  checkerr("model has no layers", nn.Sequential().predict, nn.Sequential(), x)
  checkerr("model.layers is read-only", function() m.layers = {} end)
end

-- Wrong self types are argument errors, not crashes.
do
  local m = small()
  check(not pcall(m.fit, {}, x, y2), "fit on a table")
  check(not pcall(nn.Dense(2).get_weights, m), "layer method on a model")
  check(not pcall(m.summary, 5), "summary on a number")
end

-- Targets outside a loss's domain are refused with what was expected and
-- how to convert: binary cross-entropy on the 1..2 labels of
-- nn.data.moons went negative and "trained".
do
  local function binary()
    local m = nn.Sequential({nn.Dense(1, {input_dim = 2, activation = "sigmoid"})})
    m:compile{loss = "binary_crossentropy", optimizer = "sgd"}
    return m
  end
  local mx, my = nn.data.moons(20, 0.1)
  local m = binary()
  local before = m:get_weights()[1]:clone()
  checkerr("binary_crossentropy takes targets in 0..1 (y holds 1..2); these " ..
           "look like classes 1..2: pass y - 1", m.fit, m, mx, my, {verbose = 0})
  check((m:get_weights()[1] - before):abs():max() == 0, "a refused fit trains nothing")
  m:fit(mx, my - 1, {epochs = 1, verbose = 0}) -- the fix the message gives works
  checkerr("use a softmax output with sparse_categorical_crossentropy", m.fit, m, mx,
           nn.tensor({0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4}), {verbose = 0})
  checkerr("fit: validation_data: y[", m.fit, m, mx, my - 1,
           {validation_data = {mx, my}, verbose = 0})
  checkerr("evaluate: y[", m.evaluate, m, mx, my)
  checkerr("train_on_batch: y[", m.train_on_batch, m, mx, my)
  -- one-hot rows
  local c = small()
  c:compile{loss = "categorical_crossentropy", optimizer = "sgd"}
  local soft = nn.tensor({{0.5, 0.6}, {1, 0}, {0, 1}, {1, 0}, {0, 1},
                          {1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}})
  checkerr("fit: row 1 of y sums to 1.1: categorical_crossentropy takes one-hot rows", c.fit,
           c, x, soft, {verbose = 0})
  checkerr("fit: y[1] = 2: categorical_crossentropy takes targets in 0..1 (one-hot rows)",
           c.fit, c, x, y2 * 2, {verbose = 0})
  c:fit(x, nn.tensor({{0.3, 0.7}, {1, 0}, {0, 1}, {1, 0}, {0, 1},
                      {1, 0}, {0, 1}, {1, 0}, {0, 1}, {1, 0}}), {verbose = 0}) -- soft labels
  -- regression targets need only be finite
  local r = nn.Sequential({nn.Dense(1, {input_dim = 3})})
  r:compile{loss = "mse"}
  local ty = nn.rand(10, 1) * 100
  ty:set(4, 1, 0 / 0)
  checkerr("fit: y[4] is NaN: mse needs finite targets", r.fit, r, x, ty, {verbose = 0})
  -- the functional losses check the same way
  checkerr("y[2] = 2: binary_crossentropy takes targets in 0..1", nn.losses.binary_crossentropy,
           nn.tensor({1, 2}), nn.tensor({0.5, 0.5}))
  checkerr("y[1] = 0 is not a class index 1..3", nn.losses.sparse_categorical_crossentropy,
           nn.tensor({0}), nn.tensor({{0.2, 0.3, 0.5}}))
end

-- validation_split on data sorted by class holds out one class: fit
-- warns once (stderr), names the classes and says how to shuffle; on
-- shuffled data, with regression or with validation_data it says nothing.
do
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local function run(code)
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(code)
    f:close()
    local p = io.popen(string.format("'%s' '%s' 2>&1", bin, path))
    local out = p:read("a")
    p:close()
    os.remove(path)
    return out
  end
  local head = [[
nn.seed(1)
local x, y = nn.data.iris()
local m = nn.Sequential{nn.Dense(3, {input_dim = 4, activation = "softmax"})}
m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
]]
  local out = run(head .. "m:fit(x, y, {epochs = 2, validation_split = 0.2, verbose = 0})")
  check(select(2, out:gsub("fit: warning:", "")) == 1, "one warning for the fit:\n" .. out)
  check(out:find("holds out the last 30 rows as they are: classes 1, 2 are only in the " ..
                 "training rows", 1, true) and out:find("nn.data.shuffle(x, y)", 1, true), out)
  out = run(head .. "x, y = nn.data.shuffle(x, y)\n" ..
            "m:fit(x, y, {epochs = 1, validation_split = 0.2, verbose = 0})")
  check(not out:find("warning", 1, true), "shuffled: no warning\n" .. out)
  out = run(head .. "local x2 = nn.cat({x, x}, 1)\n" ..
            "local y2 = nn.cat({y, nn.full({150}, 3)}, 1)\n" ..
            "m:fit(x2, y2, {epochs = 1, validation_split = 0.4, verbose = 0})")
  check(out:find("classes 1, 2 are only in the training rows", 1, true), out)
  out = run([[
local x, y = nn.data.moons(40, 0.1)
y = y - 1
local i = 0
local m = nn.Sequential{nn.Dense(1, {input_dim = 2, activation = "sigmoid"})}
m:compile{loss = "binary_crossentropy", optimizer = "sgd"}
local sorted = nn.zeros(40, 1)
for r = 1, 40 do sorted:set(r, 1, r > 30 and 1 or 0) end
m:fit(x, sorted, {epochs = 1, validation_split = 0.2, verbose = 0})]])
  check(out:find("class 0 is only in the training rows", 1, true), "binary: classes 0 and 1\n" .. out)
  out = run([[
local x = nn.rand(40, 2)
local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
m:compile{loss = "mse"}
m:fit(x, nn.arange(40):reshape(40, 1), {epochs = 1, validation_split = 0.2, verbose = 0})]])
  check(not out:find("warning", 1, true), "regression has no classes\n" .. out)
end

print("test_model_errors: ok")
