-- N ranks with batch B train as one process with batch N*B: run once as
--   nnlua dist_match.lua ref FILE N        (one process, batch N*B; writes FILE)
-- and then under mpirun -np N as
--   nnlua dist_match.lua dist FILE         (batch B on each rank; compares)
-- Every case compares the history (loss and metrics per epoch, validation
-- too), the final weights, evaluate and predict with the 1-process run, to
-- float tolerance (the sums run in another order, nothing more).
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local mode, file = arg[1], arg[2]
assert(mode == "ref" or mode == "dist", "usage: dist_match.lua ref|dist FILE [N]")
local N = mode == "ref" and assert(tonumber(arg[3]), "ref needs N") or C.size
-- the batch of fit: per rank under mpirun, all N shares in one process
local function batch(b) return mode == "ref" and N * b or b end

local digits_x, digits_y = nn.data.digits()
digits_x = digits_x / 16
local images = nn.data.digits{flatten = false} / 16

local function mlp(opt)
  local m = nn.Sequential{nn.Dense(32, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = opt or nn.optimizers.Adam{lr = 0.01},
            metrics = {"accuracy"}}
  return m
end

local function result(m, h, x, y)
  local loss, metrics = m:evaluate(x, y)
  return {history = C.history(h), weights = m:get_weights(), eval_loss = loss,
          eval_metrics = metrics, predict = m:predict(x)}
end

local cases = {}

-- The MLP on the digits, Adam, accuracy, validation_split (an uneven last
-- global batch: 1437 training rows).
cases[#cases + 1] = {name = "mlp", run = function()
  nn.seed(11)
  local x, y = nn.data.shuffle(digits_x, digits_y)
  local m = mlp()
  local h = m:fit(x, y, {epochs = 5, batch_size = batch(64), validation_split = 0.2, verbose = 0})
  return result(m, h, x, y)
end}

-- A small CNN, SGD with momentum, validation_data.
cases[#cases + 1] = {name = "cnn", run = function()
  nn.seed(12)
  local x, y = nn.data.shuffle(images, digits_y)
  local tx, ty = x:rows(1, 1000):clone(), y:rows(1, 1000):clone()
  local vx, vy = x:rows(1001, 1300):clone(), y:rows(1001, 1300):clone()
  local m = nn.Sequential{nn.Conv2D(8, 3, {activation = "relu", input_shape = {8, 8, 1}}),
                          nn.MaxPooling2D(2), nn.Flatten(),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy",
            optimizer = nn.optimizers.SGD{lr = 0.05, momentum = 0.9}, metrics = {"accuracy"}}
  local h = m:fit(tx, ty, {epochs = 4, batch_size = batch(64), validation_data = {vx, vy},
                           verbose = 0})
  return result(m, h, vx, vy)
end}

-- The last global batch has one row: every rank but 0 trains on none of
-- it. Evaluate and predict on fewer rows than ranks, too.
cases[#cases + 1] = {name = "tail1", run = function()
  nn.seed(13)
  local b = 20
  local n = 2 * N * b + 1
  local x, y = digits_x:rows(1, n):clone(), digits_y:rows(1, n):clone()
  local m = mlp(nn.optimizers.SGD{lr = 0.1, momentum = 0.5})
  local h = m:fit(x, y, {epochs = 3, batch_size = batch(b), verbose = 0})
  local r = result(m, h, x, y)
  local few_x, few_y = x:rows(1, 2):clone(), y:rows(1, 2):clone()
  local loss, metrics = m:evaluate(few_x, few_y)
  r.few = {loss = loss, metrics = metrics, predict = m:predict(few_x)}
  return r
end}

-- A last global batch of N + 1 rows: shares of 2 and 1 rows.
cases[#cases + 1] = {name = "uneven", run = function()
  nn.seed(14)
  local b = 16
  local n = 3 * N * b + N + 1
  local x, y = digits_x:rows(1, n):clone(), digits_y:rows(1, n):clone()
  local m = mlp()
  local h = m:fit(x, y, {epochs = 3, batch_size = batch(b), validation_split = 0.25, verbose = 0})
  return result(m, h, x, y)
end}

-- N*B + 1 rows: one full global batch and one of a single row (where
-- rounding the rows per rank down would make one batch of all).
cases[#cases + 1] = {name = "edge", run = function()
  nn.seed(15)
  local b = 33
  local n = N * b + 1
  local x, y = digits_x:rows(1, n):clone(), digits_y:rows(1, n):clone()
  local m = mlp(nn.optimizers.SGD{lr = 0.2})
  local h = m:fit(x, y, {epochs = 2, batch_size = batch(b), verbose = 0})
  return result(m, h, x, y)
end}

-- A layer written in Lua (its gradient from autograd) between two Dense,
-- and an L2 kernel regularizer (its term once over the ranks, not N times).
local Scale = nn.Layer{
  name = "DistScale",
  build = function(self, input_shape)
    self.w = self:add_weight{name = "w", shape = {input_shape[#input_shape]},
                             initializer = "ones"}
  end,
  call = function(self, x) return x * self.w end,
}
cases[#cases + 1] = {name = "lualayer_l2", run = function()
  nn.seed(16)
  local m = nn.Sequential{nn.Dense(24, {activation = "relu", input_dim = 64,
                                        kernel_regularizer = {l2 = 0.01}}),
                          Scale{}, nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.01},
            metrics = {"accuracy"}}
  local x, y = digits_x:rows(1, 700):clone(), digits_y:rows(1, 700):clone()
  local h = m:fit(x, y, {epochs = 3, batch_size = batch(32), validation_split = 0.2, verbose = 0})
  return result(m, h, x, y)
end}

-- The rest of the model's surface over ranks: shuffle = false, a
-- learning-rate schedule, EarlyStopping that restores the best weights,
-- a second fit, train_on_batch and test_on_batch (the same rows in both
-- runs: they shard the batch they get, fewer rows than ranks too),
-- predict{upto = 1}, evaluate with a batch_size.
cases[#cases + 1] = {name = "surface", run = function()
  nn.seed(17)
  local x, y = digits_x:rows(1, 500):clone(), digits_y:rows(1, 500):clone()
  local m = mlp(nn.optimizers.SGD{lr = 0.3, momentum = 0.9})
  local sched = nn.callbacks.LearningRateScheduler(function(epoch, lr) return lr * 0.7 end)
  local stop = nn.callbacks.EarlyStopping{monitor = "val_loss", patience = 1,
                                          restore_best_weights = true}
  local h = m:fit(x, y, {epochs = 12, batch_size = batch(20), shuffle = false,
                         validation_split = 0.3, verbose = 0, callbacks = {sched, stop}})
  local r = result(m, h, x, y)
  r.epochs = #h.history.loss
  local h2 = m:fit(x, y, {epochs = 2, batch_size = batch(25), verbose = 0})
  r.history2 = C.history(h2)
  local steps = {}
  for s = 1, 3 do
    local a, b = 1 + 37 * s, 37 * s + 36 + s
    local l, mt = m:train_on_batch(x:rows(a, b):clone(), y:rows(a, b):clone())
    steps[#steps + 1] = {l, mt and mt.accuracy or 0}
  end
  local l, mt = m:train_on_batch(x:rows(1, 2):clone(), y:rows(1, 2):clone())
  steps[#steps + 1] = {l, mt and mt.accuracy or 0}
  r.train_on_batch = steps
  local tl, tm = m:test_on_batch(x:rows(201, 260):clone(), y:rows(201, 260):clone())
  r.test_on_batch = {tl, tm and tm.accuracy or 0}
  r.upto = m:predict(x, {upto = 1})
  local el, em = m:evaluate(x, y, {batch_size = 7})
  r.eval7 = {el, em.accuracy}
  r.final = m:get_weights()
  return r
end}

-- Gradient buckets of every kind (grad_sync.c): kernels of 8192 floats
-- and more summed in place, smaller arrays staged, with more than 65536
-- staged floats so that a staged bucket goes before the end of backward.
cases[#cases + 1] = {name = "buckets", run = function()
  nn.seed(18)
  local layers = {nn.Dense(256, {activation = "relu", input_dim = 64}), nn.Dense(90, {activation = "tanh"})}
  for _ = 1, 8 do layers[#layers + 1] = nn.Dense(90, {activation = "tanh"}) end
  layers[#layers + 1] = nn.Dense(10, {activation = "softmax"})
  local m = nn.Sequential(layers)
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.002},
            metrics = {"accuracy"}}
  local x, y = digits_x:rows(1, 400):clone(), digits_y:rows(1, 400):clone()
  nn.dist.stats(true)
  local h = m:fit(x, y, {epochs = 2, batch_size = batch(40), verbose = 0})
  local s = nn.dist.stats()
  -- two kernels in place and the staged rest: 3 buckets a step or more
  C.check(mode == "ref" or (s.steps > 0 and s.buckets >= 3 * s.steps),
          string.format("%d buckets in %d steps", s.buckets, s.steps))
  return result(m, h, x, y)
end}

-- Tolerances: float32 sums in another order (measured: 1e-8 to 5e-7); a
-- wrong shard, a missed row or a wrong mean is off by 1e-3 and more.
local TOL = {history = 1e-5, weights = 1e-5, eval_loss = 1e-5, eval_metrics = 1e-5,
             predict = 1e-5, few = 1e-5, epochs = 0, history2 = 1e-5, train_on_batch = 1e-5,
             test_on_batch = 1e-5, upto = 1e-5, eval7 = 1e-5, final = 1e-5}

if mode == "ref" then
  local out = {}
  for _, c in ipairs(cases) do out[c.name] = c.run() end
  C.dump(file, out)
  print("reference written: " .. file)
  return
end

-- arg[3] == "overlap=0": run.sh set NNLUA_DIST_OVERLAP=0; check it took
if arg[3] == "overlap=0" then C.check(nn.dist.stats().overlap == false, "the overlap is on") end
local ref = C.load(file)
local report, failed = {}, {}
for _, c in ipairs(cases) do
  local r = c.run()
  local want = C.check(ref[c.name], "no reference for " .. c.name)
  local keys = {}
  for k in pairs(r) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local d = C.maxdiff(r[k], want[k], c.name .. "." .. k)
    report[#report + 1] = string.format("%s.%s %.3g", c.name, k, d)
    if d > (TOL[k] or 0) then
      failed[#failed + 1] = string.format("%s.%s differs from one process with batch %d x B by %g (tolerance %g)",
                                          c.name, k, N, d, TOL[k] or 0)
    end
  end
  -- the epochs of the history: as many as asked
  C.check(#r.history.loss == #want.history.loss, c.name .. ": epochs differ")
end
if C.rank == 0 then print("max abs difference to one process: " .. table.concat(report, ", ")) end
C.check(#failed == 0, table.concat(failed, "; "))
C.ok()
