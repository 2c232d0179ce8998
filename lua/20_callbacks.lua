-- nn.callbacks: the built-in callbacks (EarlyStopping, LearningRateScheduler,
-- LearningRateWarmup, CSVLogger, TerminateOnNaN). A callback is any table
-- with some of the hooks on_train_begin(logs), on_epoch_begin(epoch, logs),
-- on_epoch_end(epoch, logs), on_batch_begin(batch, logs),
-- on_batch_end(batch, logs), on_train_end(logs); they are called as plain
-- functions (no self). fit sets cb.model to the model being trained before
-- the first hook, and cb.params = {epochs, initial_epoch, batch_size, steps,
-- verbose} (steps: batches per epoch) just before on_train_begin. Epochs
-- and batches are 1-based; epochs count from 1 also when resuming with
-- initial_epoch.
local nn = ...

local callbacks = {}
nn.callbacks = callbacks

-- Checks opts against valid ({name = "type" or "any"}); nil gives {}.
-- positional: entry 1 is allowed too (checked by the caller). Raises at
-- the caller of the constructor: `level` levels above this function's
-- caller (default 1: the constructor calls check_opts directly).
local function check_opts(fn, opts, valid, positional, level)
  level = 2 + (level or 1)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(string.format("%s: options must be a table, got %s", fn, type(opts)), level)
  end
  local names = {}
  for k in pairs(valid) do names[#names + 1] = k end
  table.sort(names)
  for k, v in pairs(opts) do
    if not (positional and k == 1) then
      local want = valid[k]
      if not want then
        error(string.format("%s: unknown option '%s' (%s)", fn, tostring(k),
                            #names == 0 and "it takes no options" or
                            "valid: " .. table.concat(names, ", ")), level)
      end
      if want ~= "any" and type(v) ~= want then
        error(string.format("%s: option '%s' must be a %s, got %s", fn, k, want, type(v)),
              level)
      end
    end
  end
  return opts
end

local Callback = {__name = "nn.Callback"}
Callback.__index = Callback
function Callback.__tostring(cb) return "nn.callbacks." .. cb.class end

-- In an MPI job (nn.dist) every rank runs the same callbacks on the same
-- logs (reduced over the ranks): rank 0 speaks for all of them.
local function say(...)
  if nn.dist.rank() == 0 then print(...) end
end
Callback.__say = say

-- A callback that writes files or draws (checkpoints, CSV logs, plots)
-- runs on rank 0 alone, and there on its own: the predictions it draws
-- are not collectives the other ranks would have to join.
local hooks = {"on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end",
               "on_epoch_end", "on_train_end"}
function Callback.__main_only(self)
  for _, h in ipairs(hooks) do
    local f = self[h]
    if f and nn.dist.rank() ~= 0 then
      self[h] = nil
    elseif f then
      self[h] = function(...) return nn.dist._solo(f, ...) end
    end
  end
  return self
end

-- "min" or "max" for the monitored log name; "auto" picks "max" for
-- accuracy-like names, as Keras does. Raises at the constructor's caller.
-- Shared with ModelCheckpoint (lua/25_checkpoint.lua) through Callback.
local function resolve_mode(fn, mode, monitor)
  mode = mode or "auto"
  if mode ~= "auto" and mode ~= "min" and mode ~= "max" then
    error(fn .. ": mode must be 'auto', 'min' or 'max', got '" .. mode .. "'", 3)
  end
  if mode == "auto" then
    mode = (monitor:find("acc") or monitor:find("precision") or monitor:find("recall"))
           and "max" or "min"
  end
  return mode
end
Callback.__resolve_mode = resolve_mode
Callback.__check_opts = check_opts

-- The arguments of a constructor, in the forms every built-in callback
-- takes: fn(opts), and where it has a first argument (a path, a
-- schedule) also fn(first, opts), fn{first, opt = ...} and
-- fn{[first.key] = first, ...}. Unknown options and a second argument
-- where none is taken are errors naming the valid ones, so that
-- ModelCheckpoint("best.safetensors", {save_best_only = true}) cannot
-- quietly save every epoch. first = {key = "path", type = "string",
-- what = "a file path"} or nil. Returns a fresh table of the options with
-- the first argument under first.key. Raises at the constructor's caller.
local function constructor_args(fn, a, b, valid, first)
  local opts
  local v = {}
  for k, t in pairs(valid) do v[k] = t end
  if not first then
    if b ~= nil then
      error(string.format("%s: takes one table of options, got a second argument (%s)", fn,
                          type(b)), 3)
    end
    opts = check_opts(fn, a, v, false, 2)
  else
    v[first.key] = first.type == "function" and "function" or first.type
    local value
    if type(a) == "table" and getmetatable(a) == nil then
      if b ~= nil then
        error(string.format("%s: give the options once: %s(%s, {...}) or %s{%s, ...}", fn,
                            fn, first.key, fn, first.key), 3)
      end
      opts = check_opts(fn, a, v, true, 2)
      value = a[1]
      if value ~= nil and a[first.key] ~= nil then
        error(string.format("%s: %s given twice (first entry and %s =)", fn, first.key,
                            first.key), 3)
      end
      if value == nil then value = a[first.key] end
    else
      value = a
      opts = check_opts(fn, b, v, false, 2)
    end
    if type(value) ~= first.type or value == "" then
      error(string.format("%s: expected %s first, got %s", fn, first.what,
                          value == "" and "an empty string" or type(value)), 3)
    end
    local copy = {}
    for k, x in pairs(opts) do if k ~= 1 then copy[k] = x end end
    copy[first.key] = value
    return copy
  end
  local copy = {}
  for k, x in pairs(opts) do copy[k] = x end
  return copy
end
Callback.__args = constructor_args

-- What to do when a monitored name is not in the epoch's logs. A val_
-- name in a fit without validation data (no val_ key at all) is what Keras
-- warns about and trains on: say so once per fit (self.warned, reset by
-- on_train_begin) and return true, so the caller skips this epoch. Any
-- other missing name is a mistake (a misspelt monitor): an error listing
-- what the logs hold.
local function missing_monitor(self, fn, monitor, logs, consequence)
  local keys, has_val = {}, false
  for k in pairs(logs) do
    keys[#keys + 1] = k
    has_val = has_val or (type(k) == "string" and k:sub(1, 4) == "val_")
  end
  table.sort(keys)
  if monitor:sub(1, 4) == "val_" and not has_val then
    if not self.warned then
      self.warned = true
      if nn.dist.rank() ~= 0 then return true end
      io.stdout:flush()
      io.stderr:write(string.format("%s: warning: monitor '%s' needs validation data " ..
                                    "(validation_split or validation_data) and this fit " ..
                                    "has none (logs: %s); %s\n", fn, monitor,
                                    table.concat(keys, ", "), consequence))
    end
    return true
  end
  error(string.format("%s: monitor '%s' is not in the logs (available: %s)", fn, monitor,
                      table.concat(keys, ", ")), 0)
end
Callback.__missing_monitor = missing_monitor

local function new(class)
  return setmetatable({class = class}, Callback)
end

-- EarlyStopping{monitor = "val_loss", patience = 0, min_delta = 0,
-- restore_best_weights = false, mode = "auto", baseline = nil,
-- start_from_epoch = 0, verbose = 0}, with Keras 3's semantics: training
-- stops once `patience` epochs in a row have not improved the monitored
-- value by more than min_delta (never at the first epoch); with a baseline
-- the wait only restarts on epochs that also beat the baseline; the first
-- start_from_epoch epochs are not watched. With restore_best_weights the
-- weights of the best epoch are put back when training ends, whether it
-- stopped early or ran all its epochs (Keras 3; Keras 2 restored only on
-- an early stop).
function callbacks.EarlyStopping(opts, extra)
  local fn = "nn.callbacks.EarlyStopping"
  opts = constructor_args(fn, opts, extra, {monitor = "string", patience = "number",
                               min_delta = "number", restore_best_weights = "boolean",
                               mode = "string", baseline = "number", verbose = "number",
                               start_from_epoch = "number"})
  local self = new("EarlyStopping")
  self.monitor = opts.monitor or "val_loss"
  self.patience = opts.patience or 0
  self.min_delta = math.abs(opts.min_delta or 0)
  self.restore_best_weights = opts.restore_best_weights or false
  self.baseline = opts.baseline
  self.start_from_epoch = opts.start_from_epoch or 0
  local verbose = (opts.verbose or 0) > 0
  local mode = resolve_mode(fn, opts.mode, self.monitor)
  self.mode = mode
  local function better(a, b)
    if mode == "min" then return a < b - self.min_delta end
    return a > b + self.min_delta
  end
  function self.on_train_begin()
    self.warned = false
    self.wait = 0
    self.stopped_epoch = nil
    self.best = mode == "min" and math.huge or -math.huge
    self.best_weights = nil
    self.best_epoch = nil
  end
  function self.on_epoch_end(epoch, logs)
    local current = logs[self.monitor]
    if current == nil and missing_monitor(self, fn, self.monitor, logs,
                                          "training goes on without early stopping") then
      return
    end
    if epoch <= self.start_from_epoch then return end
    if self.restore_best_weights and self.best_weights == nil then
      -- until an epoch improves, the first watched one counts as the best
      self.best_weights = self.model:get_weights()
      self.best_epoch = epoch
    end
    self.wait = self.wait + 1
    if better(current, self.best) then
      self.best = current
      self.best_epoch = epoch
      if self.restore_best_weights then self.best_weights = self.model:get_weights() end
      if self.baseline == nil or better(current, self.baseline) then self.wait = 0 end
      return
    end
    if self.wait >= self.patience and epoch > 1 then
      self.stopped_epoch = epoch
      self.model.stop_training = true
    end
  end
  function self.on_train_end()
    if self.stopped_epoch and verbose then
      say(string.format("Epoch %d: early stopping", self.stopped_epoch))
    end
    if self.restore_best_weights and self.best_weights then
      if verbose then
        say(string.format("Restoring model weights from the end of the best epoch: %d.",
                            self.best_epoch))
      end
      self.model:set_weights(self.best_weights)
    end
  end
  return self
end

-- LearningRateScheduler(function(epoch, lr) return new_lr end [, {verbose = 1}])
-- (also {schedule, verbose = 1}; Keras's (schedule, verbose) with a number)
function callbacks.LearningRateScheduler(schedule, opts)
  local fn = "nn.callbacks.LearningRateScheduler"
  if type(opts) == "number" then opts = {verbose = opts} end
  opts = constructor_args(fn, schedule, opts, {verbose = "number"},
                          {key = "schedule", type = "function", what = "a function(epoch, lr)"})
  schedule = opts.schedule
  local verbose = opts.verbose
  local self = new("LearningRateScheduler")
  function self.on_epoch_begin(epoch)
    local lr = self.model:get_learning_rate()
    local new_lr = schedule(epoch, lr)
    if type(new_lr) ~= "number" or not (new_lr > 0) or new_lr ~= new_lr then
      error(string.format("%s: the schedule must return a number > 0, got %s", fn,
                          tostring(new_lr)), 0)
    end
    self.model:set_learning_rate(new_lr)
    if verbose and verbose > 0 then
      say(string.format("Epoch %d: LearningRateScheduler setting learning rate to %g.",
                          epoch, new_lr))
    end
  end
  -- Keras 3: the rate goes into the epoch logs, so the history (and a
  -- CSVLogger listed after this callback) records it.
  function self.on_epoch_end(_, logs)
    logs.learning_rate = self.model:get_learning_rate()
  end
  return self
end

-- LearningRateWarmup{epochs = 5 | steps = n, start = target / ranks,
-- target = the model's rate, verbose = 0}: Goyal et al. 2017's gradual
-- warm-up (Horovod's LearningRateWarmupCallback). Over the first n steps
-- (epochs * steps per epoch, counted from epoch 1, so a resumed fit
-- continues the ramp or, past it, does nothing) the step s = (epoch - 1) *
-- steps + batch trains at start + (target - start) * (s - 1) / n: the
-- first at start, and the rate is the target exactly once step n is done;
-- after that the rate is left alone, for LearningRateScheduler and
-- others. The target is the rate the model has at on_train_begin (the
-- compiled one), except when this callback set that rate itself in an
-- earlier fit, stopped inside the warm-up: then it keeps its target, so
-- fit{initial_epoch = k} resumes the same ramp. A model loaded from a
-- file saved inside the warm-up has a ramp rate: give target = then.
-- The default start is the single-process rate of the linear scaling rule
-- (a rate scaled by the number of ranks, divided back).
function callbacks.LearningRateWarmup(opts, extra)
  local fn = "nn.callbacks.LearningRateWarmup"
  opts = constructor_args(fn, opts, extra, {epochs = "number", steps = "number",
                                            start = "number", target = "number",
                                            verbose = "number"})
  local function rate(name)
    local v = opts[name]
    if v ~= nil and not (v > 0 and v < math.huge) then
      error(string.format("%s: %s must be a learning rate > 0, got %s", fn, name,
                          tostring(v)), 3)
    end
    return v
  end
  if opts.epochs ~= nil and opts.steps ~= nil then
    error(fn .. ": give epochs or steps, not both", 2)
  end
  if opts.epochs ~= nil and not (opts.epochs > 0 and opts.epochs < math.huge) then
    error(string.format("%s: epochs must be a number > 0, got %s", fn, tostring(opts.epochs)),
          2)
  end
  local steps = opts.steps
  if steps ~= nil and not (steps >= 1 and steps < math.huge and steps == math.floor(steps)) then
    error(string.format("%s: steps must be a whole number >= 1, got %s", fn,
                        tostring(steps)), 2)
  end
  local start_opt, target_opt = rate("start"), rate("target")
  local verbose = (opts.verbose or 0) > 0
  local self = new("LearningRateWarmup")
  self.epochs = steps == nil and (opts.epochs or 5) or nil
  self.steps = steps and math.tointeger(steps)
  local batches, total, start, target, epoch, last_set, ended
  -- The rate of step s of the warm-up (1 <= s <= total).
  local function ramp(s)
    return start + (target - start) * (s - 1) / total
  end
  function self.on_train_begin()
    local params = self.params
    if type(params) ~= "table" or math.type(params.steps) ~= "integer" then
      error(fn .. ": needs the steps per epoch in cb.params.steps (fit sets them)", 0)
    end
    batches = params.steps
    total = self.steps or math.max(1, math.ceil(self.epochs * batches))
    local lr = self.model:get_learning_rate()
    if target_opt then
      target = target_opt
    elseif not (target and last_set == lr) then
      target = lr
    end
    local size = nn.dist.size()
    start = start_opt or target / size
    self.target, self.start, self.total_steps = target, start, total
    epoch, ended = nil, nil
  end
  function self.on_epoch_begin(e) epoch = e end
  function self.on_batch_begin(batch)
    local s = (epoch - 1) * batches + batch
    if s > total then return end
    last_set = ramp(s)
    self.model:set_learning_rate(last_set)
  end
  function self.on_batch_end(batch)
    if (epoch - 1) * batches + batch ~= total then return end
    last_set = target
    self.model:set_learning_rate(target)
    ended = epoch
  end
  -- The line is printed after the epoch's bar, not inside it; the rate
  -- goes into the logs (and the history) as LearningRateScheduler's does.
  function self.on_epoch_end(e, logs)
    logs.learning_rate = self.model:get_learning_rate()
    if ended == e and verbose then
      say(string.format("Epoch %d: LearningRateWarmup reached the learning rate %g " ..
                          "after %d steps.", e, target, total))
    end
  end
  return self
end

-- CSVLogger(path [, {separator = ",", append = false}]): one row per epoch.
-- Every write, flush and close is checked: a failed one (a full disk)
-- stops fit with an error naming the file, rather than leaving a short log.
-- The file is opened by C (nn.data.__open_log, taken out of nn.data here):
-- io.open would block for ever on a FIFO.
local open_log = nn.data.__open_log
nn.data.__open_log = nil
function callbacks.CSVLogger(path, opts)
  local fn = "nn.callbacks.CSVLogger"
  opts = constructor_args(fn, path, opts, {separator = "string", append = "boolean"},
                          {key = "path", type = "string", what = "a file path"})
  path = opts.path
  if path:find("\0", 1, true) then
    -- C would cut the name there and write another file
    error(fn .. ": the path contains a NUL byte (\\0)", 2)
  end
  local sep = opts.separator or ","
  local self = new("CSVLogger")
  self.path = path
  local file, keys, skip_header
  -- Raises (stopping fit) unless ok; the file is closed first.
  local function check(ok, err, what)
    if ok then return end
    if file then file:close() end
    file = nil
    error(string.format("%s: cannot %s '%s': %s", fn, what, path, tostring(err)), 0)
  end
  local function write(...)
    local ok, err = file:write(...)
    check(ok, err, "write")
  end
  function self.on_train_begin()
    if file then file:close() end -- a fit that ended by an error left it open
    local f, had = open_log(path, opts.append)
    if not f then error(fn .. ": " .. tostring(had), 0) end
    file, keys, skip_header = f, nil, opts.append and had
  end
  function self.on_epoch_end(epoch, logs)
    if not file then error(fn .. ": the log is not open (on_train_begin not run)", 0) end
    if not keys then
      keys = {}
      for k in pairs(logs) do keys[#keys + 1] = k end
      table.sort(keys)
      if not skip_header then
        write("epoch", sep, table.concat(keys, sep), "\n")
      end
    end
    local row = {tostring(epoch)}
    for _, k in ipairs(keys) do
      local v = logs[k]
      row[#row + 1] = v and string.format("%.17g", v) or ""
    end
    write(table.concat(row, sep), "\n")
    -- flushed per row: a full disk shows at this epoch, not at the end
    local ok, err = file:flush()
    check(ok, err, "write")
  end
  function self.on_train_end()
    local f = file
    file = nil
    if f then
      local ok, err = f:close()
      if not ok then
        error(string.format("%s: cannot write '%s': %s", fn, path, tostring(err)), 0)
      end
    end
  end
  return Callback.__main_only(self)
end

-- TerminateOnNaN(): stops when the loss becomes NaN or infinite.
function callbacks.TerminateOnNaN(opts, extra)
  constructor_args("nn.callbacks.TerminateOnNaN", opts, extra, {})
  local self = new("TerminateOnNaN")
  function self.on_batch_end(batch, logs)
    local loss = logs.loss
    if loss and (loss ~= loss or loss == math.huge or loss == -math.huge) then
      say(string.format("Batch %d: Invalid loss, terminating training", batch))
      self.model.stop_training = true
    end
  end
  return self
end
