-- nn.callbacks.LearningRateWarmup: the rate of every batch against the
-- formula, the target reached exactly and kept, steps and fractional
-- epochs, resuming with initial_epoch inside and after the warm-up, the
-- composition with LearningRateScheduler, the weights against the same
-- rates driven by hand, verbose, the errors; and cb.params, which fit sets
-- for it.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

local N, BS = 40, 10 -- 4 batches per epoch
local BATCHES = N // BS

local function data()
  nn.seed(7)
  return nn.rand(N, 2), nn.rand(N, 1)
end

local function model(lr)
  nn.seed(3)
  local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  m:compile{loss = "mse", optimizer = nn.optimizers.SGD{lr = lr or 0.1}}
  return m
end

-- A callback recording the model's rate at every batch_begin (after the
-- warm-up's, so the rate the step trains at) and batch_end, by global step.
local function recorder(m)
  local r = {begin = {}, ending = {}}
  local epoch
  r.on_epoch_begin = function(e) epoch = e end
  r.on_batch_begin = function(b) r.begin[(epoch - 1) * BATCHES + b] = m:get_learning_rate() end
  r.on_batch_end = function(b) r.ending[(epoch - 1) * BATCHES + b] = m:get_learning_rate() end
  return r
end

local function close(a, b) return math.abs(a - b) <= 1e-12 * math.max(1, math.abs(b)) end

-- The rate step s trains at: Goyal et al.'s ramp over n steps.
local function ramp(s, start, target, n)
  if s > n then return target end
  return start + (target - start) * (s - 1) / n
end

local function fit(m, opts, cbs)
  local x, y = data()
  opts.batch_size, opts.verbose, opts.shuffle, opts.callbacks = BS, 0, false, cbs
  return m:fit(x, y, opts)
end

-- fit gives every callback the steps per epoch and the rest of its
-- settings before on_train_begin.
H.test("fit sets cb.params", function()
  local m = model()
  local seen
  local cb = {on_train_begin = function() seen = true end}
  fit(m, {epochs = 3, initial_epoch = 1}, {cb})
  check(seen and cb.params, "cb.params is set")
  local p = cb.params
  check(p.steps == BATCHES and p.epochs == 3 and p.initial_epoch == 1 and
        p.batch_size == BS and p.verbose == 0, "params: " .. H.show({p.steps, p.epochs,
        p.initial_epoch, p.batch_size, p.verbose}))
  local x, y = data()
  m:fit(x, y, {epochs = 1, batch_size = 16, validation_split = 0.2, verbose = 0,
               callbacks = {cb}})
  check(cb.params.steps == 2, "steps count the training rows only (32 of 40 by 16): " ..
        cb.params.steps)
end)

-- Every batch of a 2-epoch warm-up from 0.02 to the compiled 0.1, then the
-- target exactly, kept to the end.
H.test("ramp per batch, target exact and kept", function()
  local m = model(0.1)
  local w = nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.02}
  local r = recorder(m)
  local h = fit(m, {epochs = 4}, {w, r})
  local n = 2 * BATCHES
  check(w.total_steps == n and w.target == 0.1 and w.start == 0.02, "settings read")
  check(#r.begin == 4 * BATCHES, "every batch seen")
  check(r.begin[1] == 0.02, "the first step trains at start exactly: " .. r.begin[1])
  for s = 1, 4 * BATCHES do
    check(close(r.begin[s], ramp(s, 0.02, 0.1, n)),
          string.format("step %d trains at %.17g, want %.17g", s, r.begin[s],
                        ramp(s, 0.02, 0.1, n)))
  end
  for s = 2, n do check(r.begin[s] > r.begin[s - 1], "rising at step " .. s) end
  check(r.ending[n] == 0.1, "the target exactly once the warm-up's last step is done")
  for s = n + 1, 4 * BATCHES do
    check(r.begin[s] == 0.1 and r.ending[s] == 0.1, "kept at step " .. s)
  end
  check(m:get_learning_rate() == 0.1, "and after fit")
  check(close(h.history.learning_rate[1], ramp(BATCHES, 0.02, 0.1, n)) and
        h.history.learning_rate[2] == 0.1 and h.history.learning_rate[4] == 0.1,
        "the epoch's rate in the history: " .. H.show(h.history.learning_rate))
end)

-- steps = n crosses an epoch boundary; fractional epochs round up to whole
-- steps; a rate falling to the target works too.
H.test("steps, fractional epochs, falling ramp", function()
  for _, case in ipairs{{opts = {steps = 6, start = 0.01}, n = 6, start = 0.01},
                        {opts = {epochs = 1.5, start = 0.01}, n = 6, start = 0.01},
                        {opts = {steps = 3, start = 0.5}, n = 3, start = 0.5},
                        {opts = {steps = 1, start = 0.01}, n = 1, start = 0.01}} do
    local m = model(0.1)
    local r = recorder(m)
    local w = nn.callbacks.LearningRateWarmup(case.opts)
    fit(m, {epochs = 3}, {w, r})
    check(w.total_steps == case.n, "steps: " .. w.total_steps)
    for s = 1, 3 * BATCHES do
      check(close(r.begin[s], ramp(s, case.start, 0.1, case.n)),
            string.format("%s: step %d at %.17g", H.show({case.n, case.start}), s, r.begin[s]))
    end
    check(r.ending[case.n] == 0.1, "target at the end of step " .. case.n)
  end
end)

-- The default: 5 epochs from target / ranks. Without nn.dist there is one
-- rank, so the rate is the target throughout.
H.test("defaults", function()
  local m = model(0.1)
  local r = recorder(m)
  local w = nn.callbacks.LearningRateWarmup()
  fit(m, {epochs = 2}, {w, r})
  local size = nn.dist and nn.dist.size() or 1
  check(w.total_steps == 5 * BATCHES and close(w.start, 0.1 / size), "defaults")
  if size == 1 then
    for s = 1, 2 * BATCHES do check(r.begin[s] == 0.1, "one rank: constant") end
  end
end)

-- Resuming: the warm-up counts from epoch 1.
H.test("resume with initial_epoch", function()
  local n = 2 * BATCHES
  -- the same callback, stopped inside the warm-up, continues the ramp (its
  -- target stays the compiled rate, not the ramp rate the model has now)
  local m = model(0.1)
  local w = nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.02}
  fit(m, {epochs = 1}, {w})
  check(close(m:get_learning_rate(), ramp(BATCHES, 0.02, 0.1, n)), "mid-ramp after epoch 1")
  local r = recorder(m)
  fit(m, {epochs = 3, initial_epoch = 1}, {w, r})
  check(r.begin[BATCHES] == nil and r.begin[BATCHES + 1], "resumed at epoch 2")
  for s = BATCHES + 1, 3 * BATCHES do
    check(close(r.begin[s], ramp(s, 0.02, 0.1, n)), "resumed step " .. s .. ": " .. r.begin[s])
  end
  check(r.ending[n] == 0.1 and m:get_learning_rate() == 0.1, "target reached on resume")
  -- a new callback on a model at a ramp rate: target = says where to go
  local m2 = model(0.1)
  fit(m2, {epochs = 1}, {nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.02}})
  local r2 = recorder(m2)
  fit(m2, {epochs = 2, initial_epoch = 1},
      {nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.02, target = 0.1}, r2})
  for s = BATCHES + 1, n do
    check(close(r2.begin[s], ramp(s, 0.02, 0.1, n)), "target =: step " .. s)
  end
  check(m2:get_learning_rate() == 0.1, "target = reached")
  -- resumed after the warm-up: the rate is left alone, whatever it is
  local m3 = model(0.1)
  m3:set_learning_rate(0.03)
  local r3 = recorder(m3)
  local h = fit(m3, {epochs = 4, initial_epoch = 2},
                {nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.001}, r3})
  for s = 2 * BATCHES + 1, 4 * BATCHES do
    check(r3.begin[s] == 0.03 and r3.ending[s] == 0.03, "untouched at step " .. s)
  end
  check(#h.history.loss == 2, "two epochs ran")
end)

-- After the warm-up a LearningRateScheduler has the rate: the warm-up does
-- not undo it.
H.test("LearningRateScheduler after the warm-up", function()
  local m = model(0.1)
  local sched = nn.callbacks.LearningRateScheduler(function(epoch, lr)
    return epoch >= 3 and 0.05 or lr
  end)
  local r = recorder(m)
  fit(m, {epochs = 4}, {sched, nn.callbacks.LearningRateWarmup{epochs = 2, start = 0.02}, r})
  for s = 1, 2 * BATCHES do
    check(close(r.begin[s], ramp(s, 0.02, 0.1, 2 * BATCHES)), "warm-up first: step " .. s)
  end
  for s = 2 * BATCHES + 1, 4 * BATCHES do
    check(r.begin[s] == 0.05, "the schedule's rate at step " .. s .. ": " .. r.begin[s])
  end
end)

-- SGD with the warm-up lands on the weights of train_on_batch with the same
-- rates set by hand; and the first step's update is start * gradient.
H.test("SGD weights against rates by hand; first step", function()
  local n = 6
  local m = model(0.1)
  local w0 = m:get_weights()
  fit(m, {epochs = 3}, {nn.callbacks.LearningRateWarmup{steps = n, start = 0.01}})
  local by_hand = model(0.1)
  by_hand:set_weights(w0)
  local x, y = data()
  for s = 1, 3 * BATCHES do
    local first = ((s - 1) % BATCHES) * BS + 1
    by_hand:set_learning_rate(ramp(s, 0.01, 0.1, n))
    by_hand:train_on_batch(x:rows(first, first + BS - 1), y:rows(first, first + BS - 1))
  end
  local a, b = m:get_weights(), by_hand:get_weights()
  for i = 1, #a do
    check(H.eq_table(a[i], b[i]), "weights " .. i .. ": " .. tostring(a[i]) .. " vs " ..
          tostring(b[i]))
  end
  check(by_hand:get_learning_rate() == 0.1, "by hand ends at the target too")

  -- one step: y_hat = x w + b, mse's gradient 2/B * x^T (y_hat - y) and
  -- 2/B * sum(y_hat - y); the update must be start times it
  local one = model(0.1)
  local k0, b0 = table.unpack(one:get_weights())
  local xb, yb = x:rows(1, BS), y:rows(1, BS)
  local gk, gb = {0, 0}, 0
  for i = 1, BS do
    local err = xb:get(i, 1) * k0:get(1, 1) + xb:get(i, 2) * k0:get(2, 1) + b0:get(1) -
                yb:get(i, 1)
    gk[1] = gk[1] + 2 / BS * err * xb:get(i, 1)
    gk[2] = gk[2] + 2 / BS * err * xb:get(i, 2)
    gb = gb + 2 / BS * err
  end
  one:fit(xb, yb, {epochs = 1, batch_size = BS, shuffle = false, verbose = 0,
                   callbacks = {nn.callbacks.LearningRateWarmup{steps = 4, start = 0.01}}})
  local k1, b1 = table.unpack(one:get_weights())
  for j = 1, 2 do
    local want = k0:get(j, 1) - 0.01 * gk[j]
    check(math.abs(k1:get(j, 1) - want) < 1e-6,
          string.format("kernel %d: %.9g, want %.9g (start * grad)", j, k1:get(j, 1), want))
    check(math.abs(k1:get(j, 1) - (k0:get(j, 1) - 0.1 * gk[j])) > 1e-4,
          "and not the compiled rate's update")
  end
  check(math.abs(b1:get(1) - (b0:get(1) - 0.01 * gb)) < 1e-6, "bias: start * grad")
end)

-- verbose = 1: one line, when the warm-up ends; verbose = 0: none.
H.test("verbose", function()
  local lines = {}
  local real_print = print
  print = function(...) lines[#lines + 1] = table.concat({...}, " ") end
  local ok, err = pcall(function()
    fit(model(0.1), {epochs = 4}, {nn.callbacks.LearningRateWarmup{steps = 6, start = 0.01,
                                                                    verbose = 1}})
    fit(model(0.1), {epochs = 4}, {nn.callbacks.LearningRateWarmup{steps = 6, start = 0.01}})
  end)
  print = real_print
  assert(ok, err)
  check(#lines == 1 and lines[1] ==
        "Epoch 2: LearningRateWarmup reached the learning rate 0.1 after 6 steps.",
        "one line: " .. table.concat(lines, "\n"))
end)

-- Errors name the callback.
H.test("errors", function()
  local W = nn.callbacks.LearningRateWarmup
  local fn = "nn.callbacks.LearningRateWarmup: "
  checkerr(fn .. "epochs must be a number > 0, got 0", W, {epochs = 0})
  checkerr(fn .. "epochs must be a number > 0, got -1", W, {epochs = -1})
  check(checkerr(fn .. "epochs must be a number > 0, got ", W, {epochs = 0 / 0}):find("nan"),
        "NaN epochs")
  checkerr(fn .. "steps must be a whole number >= 1, got 0", W, {steps = 0})
  checkerr(fn .. "steps must be a whole number >= 1, got -3", W, {steps = -3})
  checkerr(fn .. "steps must be a whole number >= 1, got 2.5", W, {steps = 2.5})
  checkerr(fn .. "give epochs or steps, not both", W, {epochs = 2, steps = 10})
  checkerr(fn .. "option 'start' must be a number, got string", W, {start = "0.01"})
  checkerr(fn .. "option 'epochs' must be a number, got string", W, {epochs = "5"})
  checkerr(fn .. "start must be a learning rate > 0, got 0", W, {start = 0})
  checkerr(fn .. "target must be a learning rate > 0, got -1", W, {target = -1})
  checkerr(fn .. "unknown option 'warmup_epochs' (valid: epochs, start, steps, target, " ..
           "verbose)", W, {warmup_epochs = 5})
  checkerr(fn .. "takes one table of options, got a second argument", W, {epochs = 2},
           {verbose = 1})
  checkerr(fn .. "options must be a table, got number", W, 5)
  -- the error points at the caller's line
  local err = checkerr("not both", function()
    local w = W{epochs = 1, steps = 1}
    return w
  end)
  check(err:find("test_callbacks_warmup.lua", 1, true), "raised at the caller: " .. err)
  err = checkerr("steps must be", function() local w = W{steps = 0}; return w end)
  check(err:find("test_callbacks_warmup.lua", 1, true), "raised at the caller: " .. err)
  err = checkerr("start must be", function() local w = W{start = -1}; return w end)
  check(err:find("test_callbacks_warmup.lua", 1, true), "raised at the caller: " .. err)
  -- outside fit, without cb.params
  local w = W{steps = 2}
  w.model = model()
  checkerr(fn .. "needs the steps per epoch in cb.params.steps", w.on_train_begin, {})
  check(tostring(W()) == "nn.callbacks.LearningRateWarmup" and W{} and W(nil), "forms")
end)

H.done()
