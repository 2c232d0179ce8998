-- nn.callbacks.ModelCheckpoint: saves the model (model:save, a safetensors
-- file with the optimizer state) at the end of epochs during fit, as Keras
-- does:
--   ModelCheckpoint{path, monitor = "val_loss", save_best_only = false,
--                   mode = "auto", verbose = 0}
-- path may hold "{epoch}" or any log key, with an optional format:
-- "ckpt-{epoch:03d}-{val_loss:.4f}.safetensors". With save_best_only, the
-- file is written only when the monitored value improves (mode "min" or
-- "max"; "auto" picks "max" for accuracy-like names, as Keras does).
-- Before saving it sets model.epochs_done to the epoch, so a file loaded
-- later can continue with fit{initial_epoch = model.epochs_done}.
local nn = ...
local callbacks = nn.callbacks

-- The same look and argument forms as the other built-in callbacks (their
-- metatable).
local Callback = getmetatable(callbacks.TerminateOnNaN())

local valid = {monitor = "string", save_best_only = "boolean",
               mode = "string", verbose = "number"}

-- Fills "{key}" / "{key:spec}" in path from the epoch and the logs.
local function format_path(fn, path, epoch, logs)
  return (path:gsub("{([%w_]+):?([^}]*)}", function(key, spec)
    local v
    if key == "epoch" then v = epoch else v = logs[key] end
    if v == nil then
      local keys = {"epoch"}
      for k in pairs(logs) do keys[#keys + 1] = k end
      table.sort(keys)
      error(string.format("%s: the path refers to {%s}, which is not in the logs "
                          .. "(available: %s)", fn, key, table.concat(keys, ", ")), 0)
    end
    if spec == "" then
      return math.type(v) == "float" and string.format("%g", v) or tostring(v)
    end
    if not spec:match("^[-+ #0]*%d*%.?%d*[dfeEgG]$") then
      error(string.format("%s: bad format '%s' for {%s} (use e.g. 03d or .4f)", fn,
                          spec, key), 0)
    end
    if spec:sub(-1) == "d" then
      v = math.type(v) == "integer" and v or math.tointeger(math.floor(v))
      if not v then -- NaN, inf, or beyond 2^63: string.format would fail obscurely
        error(string.format("%s: {%s:%s}: %s is not a whole number", fn, key, spec,
                            tostring(key == "epoch" and epoch or logs[key])), 0)
      end
    end
    return string.format("%" .. spec, v)
  end))
end

-- ModelCheckpoint(path [, opts]) or ModelCheckpoint{path, opts...}
-- (filepath = is Keras's name for path).
function callbacks.ModelCheckpoint(path, opts)
  local fn = "nn.callbacks.ModelCheckpoint"
  if type(path) == "table" and getmetatable(path) == nil and path.filepath ~= nil then
    -- Keras's name for the path: read as path (given once)
    if path[1] ~= nil or path.path ~= nil then
      error(fn .. ": give the path once (first entry, path = or filepath =)", 2)
    end
    local copy = {}
    for k, v in pairs(path) do copy[k] = v end
    copy.path, copy.filepath = copy.filepath, nil
    path = copy
  end
  opts = Callback.__args(fn, path, opts, valid,
                         {key = "path", type = "string", what = "the file path"})
  path = opts.path
  if path:find("\0", 1, true) then
    -- C would cut the name there and write another file
    error(fn .. ": the path contains a NUL byte (\\0)", 2)
  end
  local self = setmetatable({class = "ModelCheckpoint"}, Callback)
  self.path = path
  self.monitor = opts.monitor or "val_loss"
  self.save_best_only = opts.save_best_only or false
  self.verbose = opts.verbose or 0
  local mode = Callback.__resolve_mode(fn, opts.mode, self.monitor)
  self.mode = mode
  -- As Keras: the best value is kept across fit calls with the same callback.
  self.best = mode == "min" and math.huge or -math.huge

  function self.on_train_begin() self.warned = false end
  function self.on_epoch_end(epoch, logs)
    local model = self.model
    if not model then
      error(fn .. ": no model (fit sets callback.model)", 0)
    end
    local current = logs[self.monitor]
    if self.save_best_only then
      if current == nil and Callback.__missing_monitor(self, fn, self.monitor, logs,
                                                       "save_best_only saves nothing") then
        return
      end
      local improved = current == current and
        ((mode == "min" and current < self.best) or (mode == "max" and current > self.best))
      if not improved then
        if self.verbose > 0 then
          print(string.format("Epoch %d: %s did not improve from %.5f", epoch,
                              self.monitor, self.best))
        end
        return
      end
      if self.verbose > 0 then
        print(string.format("Epoch %d: %s improved from %.5f to %.5f, saving model to %s",
                            epoch, self.monitor, self.best, current,
                            format_path(fn, self.path, epoch, logs)))
      end
      self.best = current
    elseif self.verbose > 0 then
      print(string.format("Epoch %d: saving model to %s", epoch,
                          format_path(fn, self.path, epoch, logs)))
    end
    local file = format_path(fn, self.path, epoch, logs)
    model.epochs_done = epoch
    model:save(file)
    self.last_saved = file
    self.best_epoch = self.save_best_only and epoch or self.best_epoch
  end
  return Callback.__main_only(self)
end
