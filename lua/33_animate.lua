-- Training as pictures: the kinds of picture a model can be drawn as while
-- it trains (history, decision_boundary, weights, neurons), shared by
-- nn.callbacks.LivePlot{plot = ...} (lua/30_plot.lua) and
-- nn.callbacks.Animate, which records one picture per recorded epoch into
-- an animated GIF.
--
-- Each frame is the script the public plot function builds (called with
-- the hidden option _frame: no terminal or output, the script returned),
-- so a frame looks like the plot the user knows. The frames go one after
-- another into a temporary file, and at the end of fit one gnuplot draws
-- them all into the GIF (gnuplot's gif terminal with `animate`: every plot
-- is a frame). Frames share their axes: a decision boundary's area comes
-- from the data (the same every epoch); history and weights frames are
-- built at the end, when the whole history (its axes) and every kernel
-- (one colour range) are known.
local nn = ...
local K = nn._plotkit
local C, strip, check_opts, is_tensor = K.C, K.strip, K.check_opts, K.is_tensor
local pictures = K.pictures

-- The kinds. draw(st, o) builds the picture of st = {model, x, y, layer,
-- hist (name -> values so far), epoch, logs} with plot options o. A kind
-- with snap(st) is drawn for an animation at the end instead: snap takes
-- what the frame needs now, draw_snap(st, snap, o, snaps) draws it.
-- needs_xy: x and y are required; title: the frames' title before the
-- epoch; options: the plot options the kind takes besides the common ones;
-- resolution: the default of that option for pictures.

pictures.history = {
  title = "training",
  options = {logy = true},
  draw = function(st, o) return nn.plot.history({history = st.hist}, o) end,
  snap = function(st) return st.epochs end,
  draw_snap = function(st, upto, o)
    o._upto = upto
    return nn.plot.history({history = st.hist}, o)
  end,
}

pictures.decision_boundary = {
  title = "decision regions",
  needs_xy = true,
  options = {resolution = true},
  resolution = 200, -- fine enough to see the boundary, quick to draw every epoch
  draw = function(st, o) return nn.plot.decision_boundary(st.model, st.x, st.y, o) end,
}

-- nn.plot.neurons comes from its own file (lua/32_*.lua) when it is there.
pictures.neurons = {
  needs_xy = true,
  options = {resolution = true},
  available = function() return nn.plot.neurons ~= nil end,
  draw = function(st, o) return nn.plot.neurons(st.model, st.x, st.y, o) end,
}

-- The layer-th layer of model with a kernel to draw (default the first).
local function kernel_layer(model, layer)
  local seen = 0
  for _, l in ipairs(model.layers) do
    if K.drawable_kernel(l) then
      seen = seen + 1
      if seen == (layer or 1) then return l end
    end
  end
  error(string.format("nn.plot.weights: the model has %d layers with a kernel to draw " ..
                      "(Dense or convolution), asked for number %d", seen, layer or 1), 0)
end

pictures.weights = {
  options = {image = true},
  title_of = function(st)
    local l = kernel_layer(st.model, st.layer)
    local k = K.drawable_kernel(l)
    local t = "weights of layer '" .. l.name .. "'"
    if k:dim() == 2 then t = t .. string.format(" (%d inputs x %d units)", k:shape()) end
    return t
  end,
  draw = function(st, o)
    o.layer = st.layer
    return nn.plot.weights(st.model, o)
  end,
  snap = function(st)
    local l = kernel_layer(st.model, st.layer)
    local k = K.drawable_kernel(l)
    k = k:clone()
    if k:dim() == 3 then k = k:reshape(1, k:shape()) end -- {k, in, out}: one row of taps
    return k
  end,
  draw_snap = function(_, k, o, snaps)
    if not snaps.cmax then
      local m = 0
      for _, s in ipairs(snaps) do m = math.max(m, (s.value:abs():max())) end
      snaps.cmax = m > 0 and m or 1
    end
    o._cmax = snaps.cmax
    return nn.plot.weights(k, o)
  end,
}

-- The kinds' names, for messages.
local function kind_names()
  local names = {}
  for k in pairs(pictures) do
    if k:sub(1, 1) ~= "_" then names[#names + 1] = k end
  end
  table.sort(names)
  return table.concat(names, ", ")
end

-- Every option of any kind: refused by the kinds that do not take it.
local picture_options = {"x", "y", "layer", "resolution", "image", "logy"}

-- Checks the picture options of opts (plot, x, y, layer, resolution, image, logy)
-- for fn; raises at fn's caller. Returns the kind.
function pictures._check(fn, opts)
  local name = opts.plot or "history"
  local kind = pictures[name]
  if type(kind) ~= "table" or name:sub(1, 1) == "_" then
    error(string.format("%s: plot must be one of %s, got '%s'", fn, kind_names(), name), 3)
  end
  if kind.available and not kind.available() then
    error(string.format("%s: plot '%s' is not available (nn.plot.%s is not in this build)",
                        fn, name, name), 3)
  end
  for _, k in ipairs(picture_options) do
    local used = opts[k] ~= nil
    local takes = (k == "x" or k == "y") and kind.needs_xy or k == "layer" and
                  name == "weights" or (kind.options or {})[k]
    if used and not takes then
      error(string.format("%s: option '%s' is not for plot '%s'", fn, k, name), 3)
    end
  end
  if kind.needs_xy and (opts.x == nil or opts.y == nil) then
    error(string.format("%s: plot '%s' needs the points to draw: x = (n x 2 inputs) and " ..
                        "y = (their labels)", fn, name), 3)
  end
  if opts.layer ~= nil and (math.type(opts.layer) ~= "integer" or opts.layer < 1) then
    error(fn .. ": layer must be a whole number >= 1 (the model's n-th layer with " ..
          "weights), got " .. tostring(opts.layer), 3)
  end
  return kind
end

-- The frame's title: the kind's (or the user's) before the epoch and the
-- epoch's loss and accuracy, so each frame says when it was taken.
local function frame_title(kind, st, user)
  local base = user or (kind.title_of and kind.title_of(st)) or kind.title
  local logs, parts = st.logs or {}, {}
  for _, k in ipairs({"loss", "accuracy", "val_loss", "val_accuracy"}) do
    if type(logs[k]) == "number" then
      parts[#parts + 1] = string.format("%s %.3f", (k:gsub("_", " ")), logs[k])
    end
  end
  local t = "epoch " .. tostring(st.epoch)
  if #parts > 0 then t = t .. " (" .. table.concat(parts, ", ") .. ")" end
  -- a long title on two lines (not cut at the picture's edges); chosen by
  -- the part that stays the same, so the frames do not jump
  if base then t = base .. ((utf8.len(base) or #base) > 30 and "\n" or ", ") .. t end
  return t
end

-- The options of a picture: the common ones of popts, the kind's own from
-- opts (resolution, image), the title with the epoch, and extra (the hidden
-- _frame or _script).
local function picture_opts(kind, st, opts, popts, extra)
  local o = {}
  for k, v in pairs(popts) do o[k] = v end
  for k in pairs(kind.options or {}) do o[k] = opts[k] end
  if o.resolution == nil then o.resolution = kind.resolution end
  o.title = frame_title(kind, st, opts.title)
  for k, v in pairs(extra) do o[k] = v end
  return o
end

-- The script of kind's picture of st now (LivePlot; Animate's frames).
function pictures._draw(kind, st, opts, popts, extra)
  return kind.draw(st, picture_opts(kind, st, opts, popts, extra))
end

local callbacks = nn.callbacks

-- nn.callbacks.Animate{file = "fit.gif", plot = "history" | "decision_boundary"
-- | "weights" | "neurons", every = 1, delay = 25, x =, y =, layer =, ...}:
-- a frame at every every-th epoch and at the last (when it is not one of
-- those), drawn into the GIF at the end of fit. An error while drawing
-- (a model the picture cannot show, gnuplot failing) is said once on
-- stderr, as LivePlot does, and training goes on without the animation.
function callbacks.Animate(opts, extra)
  local fn = "nn.callbacks.Animate"
  if extra ~= nil then
    error(fn .. ": takes one table of options, got a second argument (" .. type(extra) .. ")", 2)
  end
  opts = check_opts(fn, opts, {plot = "string", every = "number", delay = "number",
                               x = "any", y = "any", layer = "number",
                               resolution = "number", image = "table", logy = "boolean"})
  for k in pairs(opts) do
    if type(k) == "string" and k:sub(1, 1) == "_" or k == "script" or k == "render" then
      error(string.format("%s: option '%s' is not for animations", fn, k), 2)
    end
  end
  if not opts.file then error(fn .. ": option 'file' is needed (a .gif file)", 2) end
  if not opts.file:lower():match("%.gif$") then
    error(fn .. ": file must be a .gif file, got '" .. opts.file .. "'", 2)
  end
  local kind = pictures._check(fn, opts)
  -- whole numbers given as floats (3.0) count as whole
  local every = math.tointeger(opts.every or 1) or opts.every
  if math.type(every) ~= "integer" or every < 1 then
    error(fn .. ": every must be a whole number of epochs >= 1, got " .. tostring(every), 2)
  end
  local delay = math.tointeger(opts.delay or 25) or opts.delay
  if math.type(delay) ~= "integer" or delay < 1 or delay > 100000 then
    error(fn .. ": delay must be a whole number of hundredths of a second in 1..100000, got "
          .. tostring(delay), 2)
  end
  local popts = {}
  for k, v in pairs(opts) do
    if K.common[k] and k ~= "title" then popts[k] = v end
  end
  local ok, err = pcall(C.check_opts, fn, popts)
  if not ok then error(strip(err), 2) end
  popts.file = nil -- a frame has no file; the animation has
  local x, y = opts.x, opts.y
  if x ~= nil and not is_tensor(x) then x = nn.tensor(x) end

  local self = setmetatable({class = "Animate"}, {
    __name = "nn.Callback",
    __tostring = function() return "nn.callbacks.Animate" end})
  -- tmp: the frames' file (open as out); st: what a picture is drawn
  -- from; snaps: for kinds drawn at the end; recorded: the last epoch
  -- with a frame; failed: an error was said, nothing more is drawn.
  local tmp, out, st, snaps, recorded, failed, size

  local function cleanup()
    if out then out:close(); out = nil end
    if tmp then os.remove(tmp); tmp = nil end
  end
  -- A forgotten callback (fit stopped by an error before on_train_end)
  -- does not leave its frames behind.
  getmetatable(self).__gc = cleanup

  local function warn(msg)
    if not failed then
      msg = strip(msg):gsub("^nn%.callbacks%.Animate: ", "")
      io.stderr:write("Animate: ", msg, " (training goes on without it)\n")
    end
    failed = true
    cleanup()
  end

  -- Appends one frame's script to the frames' file.
  local function add_frame(text)
    size = size or {text:match("^# nnlua frame size (%d+),(%d+)")}
    assert(out:write(text, "\n"))
    self.frames = self.frames + 1
  end

  local function record()
    recorded = st.epoch
    if kind.snap then
      snaps[#snaps + 1] = {epoch = st.epoch, logs = st.logs, value = kind.snap(st)}
    else
      add_frame(pictures._draw(kind, st, opts, popts, {_frame = true}))
    end
  end

  -- for tests: the frames' file while fit runs (gone afterwards)
  function self.frames_file() return tmp end

  function self.on_train_begin()
    cleanup()
    failed, recorded, size, snaps = false, nil, nil, {}
    self.frames = 0
    st = {model = self.model, x = x, y = y, layer = opts.layer, hist = {}, epochs = 0}
    local ok2, err2 = pcall(function()
      tmp = os.tmpname()
      out = assert(io.open(tmp, "wb"))
    end)
    if not ok2 then warn("cannot make a temporary file for the frames: " .. tostring(err2)) end
  end

  function self.on_epoch_end(epoch, logs)
    for k, v in pairs(logs) do
      if type(k) == "string" and type(v) == "number" then
        st.hist[k] = st.hist[k] or {}
        table.insert(st.hist[k], v)
      end
    end
    st.epoch, st.logs, st.epochs = epoch, logs, st.epochs + 1
    if failed or epoch % every ~= 0 then return end
    local ok2, err2 = pcall(record)
    if not ok2 then warn(err2) end
  end

  function self.on_train_end()
    if failed or not st.epoch then cleanup(); return end
    local ok2, err2 = pcall(function()
      if recorded ~= st.epoch then record() end
      for _, s in ipairs(snaps) do
        local fs = {model = st.model, x = x, y = y, layer = opts.layer, hist = st.hist,
                    epoch = s.epoch, logs = s.logs, epochs = st.epochs}
        local o = picture_opts(kind, fs, opts, popts, {_frame = true})
        add_frame(kind.draw_snap(fs, s.value, o, snaps))
      end
      assert(out:close())
      out = nil
      local w, h = tonumber(size[1]), tonumber(size[2])
      C.animation(fn, {file = opts.file}, tmp, w, h, delay)
    end)
    if not ok2 then warn(err2) end
    cleanup()
  end
  return getmetatable(nn.callbacks.TerminateOnNaN()).__main_only(self)
end
