-- Callbacks: hook order and arguments, model.stop_training, EarlyStopping
-- (with restore_best_weights), LearningRateScheduler, CSVLogger,
-- TerminateOnNaN, an error in a callback, and Ctrl-C during fit.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

local function data(n)
  nn.seed(1)
  local x = nn.rand(n, 2)
  local y = nn.zeros(n, 1)
  for i = 1, n do y:set(i, 1, x:get(i, 1) > x:get(i, 2) and 1 or 0) end
  return x, y
end

local function model(lr)
  local m = nn.Sequential({nn.Dense(4, {input_dim = 2, activation = "tanh"}),
                           nn.Dense(1, {activation = "sigmoid"})})
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = lr or 0.01},
            metrics = {"accuracy"}}
  return m
end

-- Hook order and arguments.
do
  local x, y = data(20)
  local m = model()
  local events = {}
  local cb = {
    on_train_begin = function(logs) events[#events + 1] = "train_begin" end,
    on_epoch_begin = function(e) events[#events + 1] = "epoch_begin " .. e end,
    on_batch_end = function(b, logs)
      check(type(logs.loss) == "number" and logs.val_loss == nil, "batch logs")
      events[#events + 1] = "batch_end " .. b
    end,
    on_epoch_end = function(e, logs)
      check(logs.val_loss and logs.accuracy and logs.val_accuracy, "epoch logs")
      events[#events + 1] = "epoch_end " .. e
    end,
    on_train_end = function(logs) events[#events + 1] = "train_end" end,
  }
  m:fit(x, y, {epochs = 2, batch_size = 8, validation_split = 0.2, callbacks = {cb},
               verbose = 0})
  local want = {"train_begin", "epoch_begin 1", "batch_end 1", "batch_end 2", "epoch_end 1",
                "epoch_begin 2", "batch_end 1", "batch_end 2", "epoch_end 2", "train_end"}
  check(#events == #want, "event count " .. #events)
  for i = 1, #want do check(events[i] == want[i], events[i] .. " ~= " .. want[i]) end
  check(cb.model == m, "fit sets callback.model")
end

-- model.stop_training from a callback stops after the current batch.
do
  local x, y = data(40)
  local m = model()
  local batches, last_logs, epoch_logs = 0, nil, nil
  local h = m:fit(x, y, {epochs = 5, batch_size = 10, verbose = 0, validation_split = 0.25,
    callbacks = {{
      on_batch_end = function(b, logs)
        batches = batches + 1
        last_logs = logs
        if b == 2 then m.stop_training = true end
      end,
      on_epoch_end = function(e, logs) epoch_logs = logs end,
  }}})
  check(batches == 2, "stopped after batch 2")
  -- Keras: the partial epoch is validated and recorded with the logs so far.
  check(#h.history.loss == 1 and h.stopped, "the partial epoch is recorded")
  check(h.epoch[1] == 1, "as epoch 1")
  check(h.history.loss[1] == last_logs.loss, "with the running loss of its batches")
  check(#h.history.val_loss == 1 and h.history.val_loss[1] == h.history.val_loss[1],
        "and validated")
  check(epoch_logs and epoch_logs.val_loss == h.history.val_loss[1], "on_epoch_end saw it")
  local h2 = m:fit(x, y, {epochs = 5, batch_size = 10, verbose = 0, callbacks = {{
    on_epoch_end = function(e) if e == 3 then m.stop_training = true end end,
  }}})
  check(#h2.history.loss == 3, "stop at the end of epoch 3")
  check(m.stop_training == true, "stop_training readable")
  local h3 = m:fit(x, y, {epochs = 2, verbose = 0})
  check(#h3.history.loss == 2, "fit resets stop_training")
end

-- EarlyStopping: a monitor that never improves stops after patience epochs
-- and restore_best_weights puts back the weights of the best epoch.
do
  local x, y = data(40)
  local m = model(0.05)
  local snapshots = {}
  local es = nn.callbacks.EarlyStopping{monitor = "fake", patience = 2,
                                        restore_best_weights = true}
  local fake = {0.5, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9}  -- best at epoch 2
  local feeder = {
    on_epoch_end = function(e, logs) snapshots[e] = m:get_weights()[1]:clone() end,
  }
  -- inject the fake metric before EarlyStopping sees the logs
  local wrap = {on_epoch_end = function(e, logs) logs.fake = fake[e]; es.on_epoch_end(e, logs) end,
                on_train_begin = function(l) es.model = m; es.on_train_begin(l) end,
                on_train_end = function(l) es.on_train_end(l) end}
  local h = m:fit(x, y, {epochs = 7, batch_size = 10, verbose = 0, callbacks = {feeder, wrap}})
  check(#h.history.loss == 4, "stopped at epoch 4 (2 epochs without improvement), got " ..
        #h.history.loss)
  check(es.stopped_epoch == 4 and es.best_epoch == 2, "best epoch 2")
  local w = m:get_weights()[1]
  check(H.f32(w:get(1, 1)) == H.f32(snapshots[2]:get(1, 1)) and
        (w - snapshots[2]):sum() == 0, "weights restored from epoch 2")
  check((w - snapshots[4]):sum() ~= 0, "not the last epoch's weights")
  -- Keras 3: the best weights are restored at the end also when training
  -- ran all its epochs (best at epoch 3 of 5, patience not reached)...
  local function run(values, esopts, epochs)
    local mm = model(0.05)
    local snaps = {}
    local e = nn.callbacks.EarlyStopping(esopts)
    local hh = mm:fit(x, y, {epochs = epochs or #values, batch_size = 10, verbose = 0,
      callbacks = {{on_train_begin = function(l) e.model = mm; e.on_train_begin(l) end,
                    on_epoch_end = function(ep, logs)
                      snaps[ep] = mm:get_weights()[1]:clone()
                      logs.fake = values[ep]
                      e.on_epoch_end(ep, logs)
                    end,
                    on_train_end = function(l) e.on_train_end(l) end}}})
    return e, hh, mm:get_weights()[1], snaps
  end
  local e5, h5, w5, s5 = run({0.5, 0.4, 0.3, 0.35, 0.36},
                             {monitor = "fake", patience = 10, restore_best_weights = true})
  check(#h5.history.loss == 5 and not e5.stopped_epoch, "ran all 5 epochs")
  check(e5.best_epoch == 3 and (w5 - s5[3]):sum() == 0 and (w5 - s5[5]):sum() ~= 0,
        "weights of epoch 3 restored at the end")
  -- ... a best last epoch keeps its weights, and without the option nothing changes
  local _, _, w6, s6 = run({0.5, 0.4, 0.3}, {monitor = "fake", restore_best_weights = true,
                                             patience = 5})
  check((w6 - s6[3]):sum() == 0, "best last epoch: its weights")
  local _, _, w7, s7 = run({0.5, 0.4, 0.3, 0.35, 0.36}, {monitor = "fake", patience = 10})
  check((w7 - s7[5]):sum() == 0, "no restore without restore_best_weights")
  -- baseline: the wait only restarts on epochs that also beat the baseline
  local e8, h8 = run({0.5, 0.4, 0.45, 0.42, 0.41}, {monitor = "fake", patience = 3,
                                                    baseline = 0.1})
  check(#h8.history.loss == 3 and e8.stopped_epoch == 3, "baseline: stop at 3, got " ..
        #h8.history.loss)
  local _, h9 = run({0.5, 0.4, 0.45, 0.42, 0.41}, {monitor = "fake", patience = 3})
  check(#h9.history.loss == 5, "no baseline: runs on")
  -- start_from_epoch: the first epochs are not watched
  local e10, h10 = run({0.5, 0.9, 0.9, 0.9, 0.9}, {monitor = "fake", patience = 1,
                                                   start_from_epoch = 2})
  check(e10.stopped_epoch == 4 and #h10.history.loss == 4, "start_from_epoch 2: stop at 4")
  local e11 = run({0.5, 0.9, 0.9, 0.9, 0.9}, {monitor = "fake", patience = 1})
  check(e11.stopped_epoch == 2, "from the start: stop at 2")
  -- on a real monitor
  local m2 = model()
  local h2 = m2:fit(x, y, {epochs = 50, batch_size = 10, validation_split = 0.25, verbose = 0,
    callbacks = {nn.callbacks.EarlyStopping{monitor = "val_loss", patience = 1,
                                            min_delta = 10}}})
  check(#h2.history.loss == 2, "min_delta 10: no improvement counts")
  checkerr("monitor 'val_los' is not in the logs (available: accuracy, loss, val_accuracy, " ..
           "val_loss)", m2.fit, m2, x, y, {epochs = 2, verbose = 0, validation_split = 0.25,
           callbacks = {nn.callbacks.EarlyStopping{monitor = "val_los"}}})
  -- without validation data Keras warns and trains on: all epochs run, one
  -- warning for the fit (stderr, run in a child to read it)
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
m:compile{loss = "mse"}
local es = nn.callbacks.EarlyStopping{patience = 0, restore_best_weights = true}
local ck = nn.callbacks.ModelCheckpoint{os.tmpname(), save_best_only = true}
local h = m:fit(nn.rand(8, 2), nn.rand(8, 1), {epochs = 4, verbose = 0, callbacks = {es, ck}})
print("epochs " .. #h.history.loss .. " saved " .. tostring(ck.last_saved))
h = m:fit(nn.rand(8, 2), nn.rand(8, 1), {epochs = 2, verbose = 0, callbacks = {es}})
print("epochs " .. #h.history.loss)
]])
  f:close()
  local p = io.popen(string.format("'%s' '%s' 2>&1", bin, script))
  local out = p:read("a")
  p:close()
  os.remove(script)
  check(out:find("epochs 4 saved nil", 1, true) and out:find("epochs 2", 1, true),
        "every epoch runs, nothing saved:\n" .. out)
  local _, es_warnings = out:gsub("EarlyStopping: warning: monitor 'val_loss' needs " ..
                                  "validation data", "")
  local _, ck_warnings = out:gsub("ModelCheckpoint: warning: monitor 'val_loss' needs " ..
                                  "validation data", "")
  check(es_warnings == 2 and ck_warnings == 1, "one warning per fit:\n" .. out)
  check(out:find("(logs: loss); training goes on without early stopping", 1, true), out)
  checkerr("EarlyStopping: unknown option 'patient'", nn.callbacks.EarlyStopping,
           {patient = 3})
end

-- LearningRateScheduler: sets the rate before each epoch; 1-based epochs.
do
  local x, y = data(20)
  local m = model()
  local seen = {}
  local sched = nn.callbacks.LearningRateScheduler(function(epoch, lr)
    seen[#seen + 1] = {epoch, lr}
    return 0.1 / epoch
  end)
  m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {sched}})
  check(seen[1][1] == 1 and math.abs(seen[1][2] - 0.01) < 1e-12, "first call: epoch 1, lr 0.01")
  check(math.abs(seen[3][2] - 0.05) < 1e-12, "lr of epoch 2 seen at epoch 3")
  check(math.abs(m:get_learning_rate() - 0.1 / 3) < 1e-12, "rate set")
  -- Keras 3: the rate of each epoch is in its logs and so in the history
  local h = m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {sched}})
  check(#h.history.learning_rate == 3 and h.history.learning_rate[2] == 0.05,
        "history.learning_rate")
  -- any number a callback adds to the epoch logs is recorded; later
  -- callbacks see it; other values and the built-in keys are left alone
  local seen_by_next
  local h2 = m:fit(x, y, {epochs = 3, verbose = 0, callbacks = {
    {on_epoch_end = function(e, logs)
      if e ~= 2 then logs.custom = e * 10 end
      logs.note = "text"
      logs.loss = -1
    end},
    {on_epoch_end = function(e, logs) seen_by_next = logs.custom end}}})
  check(h2.history.custom[1] == 10 and h2.history.custom[2] == nil and
        h2.history.custom[3] == 30, "custom key by epoch")
  check(seen_by_next == 30, "the next callback sees it")
  check(h2.history.note == nil and h2.history.loss[1] >= 0, "non-numbers and built-ins kept")
  checkerr("the schedule must return a number > 0", m.fit, m, x, y, {verbose = 0,
    callbacks = {nn.callbacks.LearningRateScheduler(function() return "fast" end)}})
end

-- CSVLogger writes a header and one row per epoch.
do
  local x, y = data(20)
  local m = model()
  local path = os.tmpname()
  m:fit(x, y, {epochs = 3, validation_split = 0.2, verbose = 0,
               callbacks = {nn.callbacks.CSVLogger(path)}})
  local lines = {}
  for l in io.lines(path) do lines[#lines + 1] = l end
  check(#lines == 4, "header + 3 rows")
  check(lines[1] == "epoch,accuracy,loss,val_accuracy,val_loss", lines[1])
  check(lines[4]:match("^3,"), "epoch number first")
  m:fit(x, y, {epochs = 1, verbose = 0,
               callbacks = {nn.callbacks.CSVLogger(path, {append = true})}})
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  check(n == 5, "append adds rows without a new header")
  os.remove(path)
end

-- TerminateOnNaN: a diverging model stops.
do
  nn.seed(3)
  local x = nn.rand(32, 2) * 1e18
  local y = nn.rand(32, 1)
  local m = nn.Sequential({nn.Dense(1, {input_dim = 2})})
  m:compile{loss = "mse", optimizer = nn.optimizers.SGD{lr = 1e10}}
  local h = m:fit(x, y, {epochs = 20, batch_size = 4, verbose = 0,
                         callbacks = {nn.callbacks.TerminateOnNaN()}})
  check(h.stopped and #h.history.loss < 20, "terminated on a non-finite loss")
end

-- An error in a callback stops fit with that error and a traceback; the
-- model stays usable.
do
  local x, y = data(20)
  local m = model()
  local ok, err = pcall(m.fit, m, x, y, {epochs = 3, verbose = 0, callbacks = {{
    on_epoch_end = function(e) if e == 2 then error("boom at epoch " .. e) end end,
  }}})
  check(not ok and tostring(err):find("boom at epoch 2", 1, true), tostring(err))
  check(tostring(err):find("stack traceback", 1, true), "with a traceback")
  checkerr("not allowed while fit is running", m.fit, m, x, y, {verbose = 0, callbacks = {{
    on_epoch_end = function() m:compile{loss = "mse"} end}}})
  local h = m:fit(x, y, {epochs = 1, verbose = 0})
  check(#h.history.loss == 1, "usable after a callback error")
end

-- Ctrl-C (SIGINT, sent by a child shell: io.popen, as system() ignores
-- SIGINT in the caller) during fit stops after the current batch and returns the
-- history so far; the model keeps its weights and stays usable.
do
  local x, y = data(64)
  local m = model()
  local batches = 0
  local h = m:fit(x, y, {epochs = 10, batch_size = 8, verbose = 0, callbacks = {{
    on_batch_end = function(b)
      batches = batches + 1
      if batches == 12 then io.popen("kill -INT $PPID"):close() end
    end,
  }}})
  check(h.interrupted, "interrupted")
  check(#h.history.loss == 2, "one complete epoch and the partial one before Ctrl-C")
  check(h.epoch[2] == 2, "the partial epoch is epoch 2")
  check(batches == 12, "stopped right after the batch, got " .. batches)
  local h2 = m:fit(x, y, {epochs = 1, verbose = 0})
  check(#h2.history.loss == 1 and not h2.interrupted, "usable after Ctrl-C")
end

-- A second Ctrl-C while a Lua callback is stuck (so fit cannot reach the
-- end of its batch) is not swallowed: it raises "interrupted!" in the
-- callback, which stops fit with that error; the model stays usable.
do
  local x, y = data(64)
  local m = model()
  local ok, err = pcall(m.fit, m, x, y, {epochs = 2, batch_size = 8, verbose = 0,
    callbacks = {{on_batch_end = function(b)
      if b == 2 then
        -- a fit of another model inside the callback must not lose the
        -- program's action (its handler saw fit's own as the current one)
        local other = model()
        other:fit(x, y, {epochs = 1, verbose = 0})
        io.popen("(sleep 0.2; kill -INT $PPID; sleep 0.2; kill -INT $PPID) &"):close()
        local t = os.time() + 20
        while os.time() < t do end  -- stuck until the second Ctrl-C
      end
    end}}})
  check(not ok and tostring(err):find("interrupted!", 1, true), tostring(err))
  local h = m:fit(x, y, {epochs = 1, verbose = 0})
  check(#h.history.loss == 1 and not h.interrupted, "usable after a double Ctrl-C")
end

-- A callback that drops every other reference to the validation data and
-- makes the collector run must not free tensors fit still reads (fit keeps
-- them on its own stack). Under AddressSanitizer a use after free would
-- abort here.
do
  local x, y = data(64)
  local m = model()
  local opts = {epochs = 3, verbose = 0}
  opts.validation_data = {nn.rand(16, 2), nn.zeros(16, 1)}
  opts.callbacks = {{on_epoch_begin = function()
    opts.validation_data = nil
    for _ = 1, 20 do local t = nn.zeros(512, 512) end -- 20 MB of garbage
    collectgarbage()
  end}}
  local h = m:fit(x, y, opts)
  check(#h.history.val_loss == 3, "validated every epoch")
  for _, v in ipairs(h.history.val_loss) do check(v == v, "a number") end
end

-- Every built-in callback takes the same forms, and a mistaken second
-- argument or option is an error naming the valid ones rather than
-- quietly ignored: ModelCheckpoint(path, {save_best_only = true}) saved
-- every epoch, LearningRateScheduler(fn, {verbose = 1}) and
-- TerminateOnNaN({x = 1}) dropped what they were given.
do
  local cbs = nn.callbacks
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local x, y = data(30)
  -- path then options: only improving epochs are written
  local ck = cbs.ModelCheckpoint(dir .. "/best-{epoch}.safetensors",
                                 {save_best_only = true, monitor = "loss"})
  check(ck.save_best_only == true and ck.monitor == "loss", "the options are read")
  local m = model(0.05)
  local h = m:fit(x, y, {epochs = 6, batch_size = 10, verbose = 0, callbacks = {ck}})
  local improved, best = 0, math.huge
  for _, l in ipairs(h.history.loss) do
    if l < best then best = l; improved = improved + 1 end
  end
  local files = 0
  for _ in io.popen("ls " .. dir):lines() do files = files + 1 end
  check(files == improved, string.format("%d files for %d improvements", files, improved))
  -- the table forms
  check(cbs.ModelCheckpoint{dir .. "/a.safetensors", save_best_only = true}.save_best_only,
        "{path, opts}")
  check(cbs.ModelCheckpoint{path = dir .. "/a.safetensors"}.path == dir .. "/a.safetensors",
        "{path = }")
  check(cbs.ModelCheckpoint{filepath = dir .. "/b.safetensors"}.path == dir .. "/b.safetensors",
        "Keras's filepath =")
  checkerr("nn.callbacks.ModelCheckpoint: unknown option 'save_best' (valid: mode, monitor, " ..
           "path, save_best_only, verbose)", cbs.ModelCheckpoint, "a.safetensors",
           {save_best = true})
  checkerr("give the options once", cbs.ModelCheckpoint, {"a.safetensors"}, {verbose = 1})
  checkerr("expected the file path first, got number", cbs.ModelCheckpoint, 3)
  checkerr("path given twice", cbs.ModelCheckpoint, {"a", path = "b"})
  -- LearningRateScheduler: options table, Keras's number, or {schedule, ...}
  local sched = function(_, lr) return lr end
  local lines = {}
  local real_print = print
  print = function(...) lines[#lines + 1] = table.concat({...}, " ") end
  local ok, err = pcall(function()
    local m2 = model()
    m2:fit(x, y, {epochs = 2, batch_size = 10, verbose = 0,
                  callbacks = {cbs.LearningRateScheduler(sched, {verbose = 1})}})
    m2:fit(x, y, {epochs = 1, batch_size = 10, verbose = 0,
                  callbacks = {cbs.LearningRateScheduler{sched, verbose = 1}}})
  end)
  print = real_print
  assert(ok, err)
  local said = 0
  for _, l in ipairs(lines) do
    if l:find("LearningRateScheduler setting learning rate", 1, true) then said = said + 1 end
  end
  check(said == 3, "verbose = 1 is heard in both forms: " .. table.concat(lines, "\n"))
  check(cbs.LearningRateScheduler(sched, 1), "Keras's (schedule, verbose)")
  checkerr("unknown option 'verbos' (valid: schedule, verbose)", cbs.LearningRateScheduler,
           sched, {verbos = 1})
  checkerr("expected a function(epoch, lr) first, got nil", cbs.LearningRateScheduler)
  -- the ones without a first argument
  checkerr("nn.callbacks.TerminateOnNaN: unknown option 'x' (it takes no options)", cbs.TerminateOnNaN,
           {x = 1})
  check(cbs.TerminateOnNaN({}) and cbs.TerminateOnNaN(), "no options")
  checkerr("nn.callbacks.EarlyStopping: takes one table of options, got a second argument",
           cbs.EarlyStopping, {patience = 2}, {verbose = 1})
  checkerr("nn.callbacks.LivePlot: takes one table of options, got a second argument",
           cbs.LivePlot, {}, {every = 2})
  checkerr("nn.callbacks.Animate: takes one table of options, got a second argument",
           cbs.Animate, {file = "a.gif"}, {every = 2})
  checkerr("nn.callbacks.LearningRateWarmup: takes one table of options, got a second " ..
           "argument", cbs.LearningRateWarmup, {epochs = 2}, {verbose = 1})
  checkerr("nn.callbacks.LearningRateWarmup: unknown option 'epoch' (valid: epochs, start, " ..
           "steps, target, verbose)", cbs.LearningRateWarmup, {epoch = 2})
  check(cbs.LearningRateWarmup({}) and cbs.LearningRateWarmup(), "no options")
  checkerr("nn.callbacks.GradientLogger: unknown option 'evry'", cbs.GradientLogger,
           {evry = "batch"})
  checkerr("nn.callbacks.CSVLogger: unknown option 'sep' (valid: append, path, separator)",
           cbs.CSVLogger, dir .. "/log.csv", {sep = ";"})
  check(cbs.CSVLogger{dir .. "/log.csv", separator = ";"}.path == dir .. "/log.csv",
        "CSVLogger{path, opts}")
  os.execute("rm -rf " .. dir)
end

-- An error in a callback ends the script with one traceback (the hook's,
-- which already reaches the main chunk), not that and a second one.
do
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
m:compile{loss = "mse"}
m:fit(nn.rand(8, 2), nn.rand(8, 1), {epochs = 3, verbose = 0,
      callbacks = {{on_epoch_end = function(e) error("boom at " .. e) end}}})
]])
  f:close()
  local p = io.popen(string.format("'%s' '%s' 2>&1", bin, script))
  local out = p:read("a")
  p:close()
  os.remove(script)
  local _, n = out:gsub("stack traceback:", "")
  check(out:find("boom at 1", 1, true) and n == 1 and out:find("in main chunk", 1, true),
        "one traceback:\n" .. out)
end

print("test_model_callbacks: ok")
