-- nn.plot.neurons(model, x, y, opts): for a model of two inputs, what every
-- unit computes, as TensorFlow Playground draws it: the network's columns
-- of small maps (a unit's output over the input plane), edges by weight,
-- and the output's classes with the points (src/plot/plot_neurons.c). The
-- columns come from the layers' kinds (layer.draw == "neurons": a Dense
-- layer starts a column; activations, dropout and normalization after it
-- belong to it), and each column's maps from model:predict(grid, {upto = i})
-- at its last layer.
local nn = ...
local K = nn._plotkit
local plot = nn.plot

-- A layer folded into a column, in words ("dropout 0.2").
local function note(l)
  local words = l.type:gsub("(%l)(%u)", "%1 %2"):lower()
  local kind = nn.registry and nn.registry.layers[l.type]
  local first = kind and kind.npositional and kind.npositional > 0 and kind.options[1]
  local v = first and l[first.key]
  if type(v) == "number" then return string.format("%s %g", words, v) end
  return words
end

local function plural(n, what)
  return n .. " " .. what .. (n == 1 and "" or "s")
end

-- The per-sample width a layer gives, or nil when not one number.
local function width_of(l)
  local s = l.output_shape
  if type(s) == "table" and #s == 1 then return s[1] end
end

-- The columns of model: {units, upto = last layer index, layer = the Dense
-- layer (nil for the inputs), act, notes}.
local function columns_of(fn, model)
  local cols = {{units = 2, upto = 0, notes = {}}}
  for i, l in ipairs(model.layers) do
    if l.draw == "neurons" then
      local u = l.units or width_of(l)
      if not u or not l.built then
        error(string.format("%s: layer %d '%s' is not built yet (fit or predict first)", fn,
                            i, l.name), 3)
      end
      cols[#cols + 1] = {units = u, upto = i, layer = l, act = l.activation or "linear",
                         notes = {}}
    else
      local c = cols[#cols]
      local w = width_of(l)
      if l.built and w ~= c.units then
        error(string.format("%s: layer %d '%s' (%s) gives %s values per sample where its " ..
                            "column has %d; this picture draws Dense layers (and the " ..
                            "activations, dropout and normalization after them)", fn, i,
                            l.name, l.type,
                            w and tostring(w) or ("{" .. table.concat(l.output_shape or {},
                                                  ", ") .. "}"), c.units), 3)
      end
      c.upto = i
      if l.type == "Activation" and l.activation then
        if c.layer then c.act = l.activation else c.notes[#c.notes + 1] = l.activation end
      else
        c.notes[#c.notes + 1] = note(l)
      end
    end
  end
  if #cols == 1 then
    error(fn .. ": the model has no Dense layer to draw", 3)
  end
  return cols
end

-- The kernel of column c's Dense layer when it joins the previous column's
-- units to c's (in x units), else nil.
local function kernel_of(c, prev_units)
  local k = c.layer and c.layer:get_weights()[1]
  if k and k:dim() == 2 then
    local a, b = k:shape()
    if a == prev_units and b == c.units then return k end
  end
end

-- "8 units\nrelu, dropout 0.2": a column's label.
local function column_label(c, head)
  local second = {c.act}
  for _, n in ipairs(c.notes) do second[#second + 1] = n end
  return head .. "\n" .. table.concat(second, ", ")
end

-- The row-major grid of res x res points over [x0, x1] x [y0, y1] (row 0
-- at y0), as a {res * res, 2} tensor.
local function grid(res, x0, x1, y0, y1)
  local flat = {}
  for j = 0, res - 1 do
    local gy = y0 + (y1 - y0) * j / (res - 1)
    for i = 0, res - 1 do
      flat[#flat + 1] = x0 + (x1 - x0) * i / (res - 1)
      flat[#flat + 1] = gy
    end
  end
  return nn.tensor(flat, {res * res, 2})
end

local function whole(fn, name, v, lo, hi)
  if not (v >= lo and v <= hi) or v ~= math.floor(v) then
    error(string.format("%s: %s must be a whole number in %d..%d, got %s", fn, name, lo, hi,
                        tostring(v)), 3)
  end
  return math.tointeger(v)
end

function plot.neurons(model, x, y, opts)
  local fn = "nn.plot.neurons"
  opts = K.check_opts(fn, opts, {max_units = "number", resolution = "number",
                                 padding = "number", classes = "table"})
  if not K.is_model(model) then error(fn .. ": expected a model, got " .. type(model), 2) end
  local shape = model.input_shape or (model.layers[1] and model.layers[1].input_shape)
  if not shape then
    error(fn .. ": the model is not built yet (give input_dim to the first layer, or " ..
          "fit/predict first)", 2)
  end
  if #shape ~= 1 or shape[1] ~= 2 then
    error(string.format("%s: the model takes inputs of shape {%s}; this picture is for " ..
                        "models of 2 inputs (maps over the plane x1, x2)", fn,
                        table.concat(shape, ", ")), 2)
  end
  local max_units = whole(fn, "max_units", opts.max_units or 8, 1, 64)
  local res = whole(fn, "resolution", opts.resolution or 40, 2, 200)
  local pad = opts.padding or 0.1
  if not (pad >= 0 and pad <= 10) then
    error(fn .. ": padding must be 0..10, got " .. tostring(pad), 2)
  end
  local cols = columns_of(fn, model)
  local px, py, n = K.two_columns(fn, x)
  local x0, x1 = K.finite_range(fn, px, n, "x")
  local y0, y1 = K.finite_range(fn, py, n, "y")
  if not (x1 >= x0 and y1 >= y0) then error(fn .. ": no finite points", 2) end
  local dx = x1 > x0 and (x1 - x0) * pad or 1
  local dy = y1 > y0 and (y1 - y0) * pad or 1
  x0, x1, y0, y1 = x0 - dx, x1 + dx, y0 - dy, y1 + dy
  for _, v in ipairs({x0, x1, y0, y1, x1 - x0, y1 - y0}) do
    if not (math.abs(v) <= 3e38) then
      error(fn .. ": the points span too wide a range to draw (beyond the float32 range of " ..
            "the model's inputs)", 2)
    end
  end
  -- The labels (checked against the model's classes), then the maps.
  local _, labels, k, shift = K.predicted_classes(fn, model, x, y, 64)
  local g = grid(res, x0, x1, y0, y1)
  local out = cols[#cols]
  local input_label = "2 inputs"
  if #cols[1].notes > 0 then -- layers before the first Dense (dropout on the inputs)
    input_label = input_label .. "\n" .. table.concat(cols[1].notes, ", ")
  end
  local list = {{units = 2, shown = 2, values = g, label = input_label,
                 names = {opts.xlabel or "x1", opts.ylabel or "x2"}}}
  for i = 2, #cols - 1 do
    local c = cols[i]
    local ok, v = pcall(model.predict, model, g, {upto = c.upto, verbose = 0})
    if not ok then error(fn .. ": " .. K.strip(v):gsub("^predict: ", ""), 2) end
    list[i] = {units = c.units, shown = math.min(c.units, max_units), values = v,
               kernel = kernel_of(c, cols[i - 1].units),
               label = column_label(c, plural(c.units, "unit"))}
  end
  local gres = math.min(300, 5 * res)
  local classes = K.predicted_classes(fn, model, grid(gres, x0, x1, y0, y1), nil, 64)
  local names = opts.classes
  if not names and shift == 1 then
    names = {}
    for i = 1, k do names[i] = "class " .. tostring(i - 1) end
  end
  -- the script comes back for an animation's frame (opts._frame, lua/33_animate.lua)
  local text = K.call(K.C.neurons, fn, opts, {
    res = res, x0 = x0, x1 = x1, y0 = y0, y1 = y1, cols = list,
    out_units = out.units, out_kernel = kernel_of(out, cols[#cols - 1].units),
    out_label = column_label(out, "output: " .. plural(out.units, "unit")),
    grid = classes, gres = gres, k = k, px = px, py = py, pc = y ~= nil and labels or nil,
    names = names})
  if text then return text end
end
