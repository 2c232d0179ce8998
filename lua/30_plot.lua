-- nn.plot: the public plotting functions, drawn by gnuplot through the C
-- primitives of src/bind/lnn_plot.c (nn.plot._history, ...; taken here and
-- removed from nn.plot). This file checks options, turns histories,
-- models and data into plain numbers, and adds nn.callbacks.LivePlot.
-- The plot kinds that need a model (confusion, decision_boundary, model)
-- only use model:predict, model.layers, layer.type/.units/.activation and
-- layer:get_weights(), as API.md describes them.
local nn = ...

local plot = nn.plot
local C = {}
for k, v in pairs(plot) do
  if type(k) == "string" and k:sub(1, 1) == "_" then C[k:sub(2)] = v end
end
for k in pairs(C) do plot["_" .. k] = nil end

-- Errors of the C primitives carry this file's position; the user wants
-- theirs. Drops "nn/30_plot.lua:N: " (or another plot file's) from a message.
local function strip(msg)
  return (tostring(msg):gsub("^nn/%d+_[%w_]+%.lua:%d+: ", ""))
end

-- Calls C primitive f; its errors are raised at the caller of the public
-- function (level 3: call -> nn.plot.x -> user code). Returns what f
-- returns (a frame's script, for Animate and LivePlot's pictures).
local function call(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then error(strip(r[2]), 3) end
  return table.unpack(r, 2, r.n)
end

-- Options every plot takes, with their types.
-- The hidden ones (_name) are for lua/33_animate.lua: _frame (a frame of
-- an animation, returned), _script (return the script instead of drawing
-- it), _upto (history: the first epochs on the whole history's axes),
-- _cmax (weights: a fixed colour range).
local common = {file = "string", script = "string", title = "string", xlabel = "string",
                ylabel = "string", width = "number", height = "number", render = "boolean",
                _frame = "boolean", _script = "boolean", _upto = "number", _cmax = "number"}

-- Checks opts against common plus extra; returns opts (or {}).
local function check_opts(fn, opts, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(string.format("%s: options must be a table, got %s", fn, type(opts)), 3)
  end
  local valid = {}
  for k, v in pairs(common) do valid[k] = v end
  for k, v in pairs(extra or {}) do valid[k] = v end
  for k, v in pairs(opts) do
    local want = valid[k]
    if not want then
      local names = {}
      for n in pairs(valid) do
        if n:sub(1, 1) ~= "_" then names[#names + 1] = n end
      end
      table.sort(names)
      error(string.format("%s: unknown option '%s' (valid: %s)", fn, tostring(k),
                          table.concat(names, ", ")), 3)
    end
    if want ~= "any" and type(v) ~= want then
      error(string.format("%s: option '%s' must be a %s, got %s", fn, k, want, type(v)), 3)
    end
  end
  return opts
end

local function is_tensor(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "nn.Tensor"
end

-- The names of a history table in drawing order: loss, then the other
-- quantities alphabetically, each followed by its val_ series.
local function history_names(fn, hist)
  local base, seen = {}, {}
  for k, v in pairs(hist) do
    if type(k) ~= "string" then
      error(string.format("%s: history keys must be names, got %s", fn, type(k)), 3)
    end
    if type(v) ~= "table" and not is_tensor(v) then
      error(string.format("%s: history '%s' must be a list of numbers, got %s", fn, k,
                          type(v)), 3)
    end
    local b = k:match("^val_(.+)$") or k
    if not seen[b] then seen[b] = true; base[#base + 1] = b end
  end
  table.sort(base, function(a, b)
    if a == "loss" or b == "loss" then return a == "loss" and b ~= "loss" end
    return a < b
  end)
  local names, lists = {}, {}
  for _, b in ipairs(base) do
    for _, k in ipairs({b, "val_" .. b}) do
      local v = hist[k]
      if v ~= nil and (is_tensor(v) and v:numel() > 0 or not is_tensor(v) and #v > 0) then
        names[#names + 1] = k
        lists[#lists + 1] = v
      end
    end
  end
  if #names == 0 then
    error(fn .. ": the history has no epochs to plot", 3)
  end
  return names, lists
end

-- The table {name = {values}} of h: a History, or {history = {...}}.
local function history_table(fn, h)
  if type(h) ~= "table" or type(h.history) ~= "table" then
    error(fn .. ": expected a history from fit or a table {history = {name = {values}}}, got "
          .. (type(h) == "table" and "a table without 'history'" or type(h)), 3)
  end
  return h.history
end

-- nn.plot.history(h, opts): loss and metrics per epoch.
function plot.history(h, opts)
  local fn = "nn.plot.history"
  opts = check_opts(fn, opts, {logy = "boolean"})
  local names, lists = history_names(fn, history_table(fn, h))
  local text = call(C.history, fn, opts, names, lists)
  if text then return text end
end

-- Most points a plot draws (NNL_PLOT_MAX_POINTS): a tensor is refused
-- before it is turned into Lua tables (several times its size).
local MAX_POINTS = 2000000
local function too_many(fn, n, level)
  if n > MAX_POINTS then
    error(string.format("%s: %d points are too many to draw (at most %d); sample the data",
                        fn, n, MAX_POINTS), level + 1)
  end
end

-- Columns of a 2-D tensor as lists (for lines).
local function columns(t)
  local rows = t:totable()
  local n, m = t:shape()
  local cols = {}
  for j = 1, m do
    local c = {}
    for i = 1, n do c[i] = rows[i][j] end
    cols[j] = c
  end
  return cols
end

local function is_numbers(v)
  return is_tensor(v) or (type(v) == "table" and (#v == 0 or type(v[1]) == "number"))
end

-- nn.plot.lines(xs, ys_or_list, opts): xs may be nil or left out (1..n); ys a list of
-- numbers or a tensor (a 2-D tensor draws each column), or a list of
-- those; opts.names labels the lines.
function plot.lines(xs, ys, opts)
  local fn = "nn.plot.lines"
  -- lines(ys, opts): a table with only named fields cannot be lines
  if opts == nil and type(ys) == "table" and #ys == 0 and next(ys) ~= nil then
    xs, ys, opts = nil, xs, ys
  end
  opts = check_opts(fn, opts, {names = "table", logy = "boolean"})
  if ys == nil and xs ~= nil then xs, ys = nil, xs end
  if xs ~= nil and not is_numbers(xs) then
    error(fn .. ": xs must be a list of numbers, an nn.Tensor or nil, got " .. type(xs), 2)
  end
  local list
  if is_tensor(ys) and ys:dim() == 2 then
    too_many(fn, ys:numel(), 2)
    list = columns(ys)
  elseif is_numbers(ys) then
    list = {ys}
  elseif type(ys) == "table" then
    list = ys
  else
    error(fn .. ": ys must be numbers, an nn.Tensor or a list of them, got " .. type(ys), 2)
  end
  local series = {}
  for i, y in ipairs(list) do
    if not is_numbers(y) then
      error(string.format("%s: line %d must be a list of numbers or an nn.Tensor, got %s",
                          fn, i, type(y)), 2)
    end
    local name = opts.names and opts.names[i]
    if name ~= nil and type(name) ~= "string" then
      error(string.format("%s: names[%d] must be a string", fn, i), 2)
    end
    series[i] = {x = xs, y = y, name = name}
  end
  if #series == 0 then error(fn .. ": nothing to plot", 2) end
  call(C.lines, fn, opts, series)
end

-- nn.plot.gradients(logger_or_history, opts): one line per layer of the
-- gradient norms a GradientLogger recorded, on a log scale (opts.logy =
-- false: linear), so that gradients vanishing towards the input layers or
-- exploding show as lines far apart.
function plot.gradients(log, opts)
  local fn = "nn.plot.gradients"
  opts = check_opts(fn, opts, {logy = "boolean"})
  if type(log) == "table" and log.class == "GradientLogger" and not log.history then
    error(fn .. ": nothing recorded yet (pass the logger to fit's callbacks)", 2)
  end
  local h = type(log) == "table" and (log.history or log) or nil
  if type(h) ~= "table" or type(h.layers) ~= "table" or type(h.norms) ~= "table" then
    error(fn .. ": expected an nn.callbacks.GradientLogger (after fit) or its history, got "
          .. type(log), 2)
  end
  if #h.steps == 0 then
    error(fn .. ": nothing recorded yet (pass the logger to fit's callbacks)", 2)
  end
  local series = {}
  for i, name in ipairs(h.layers) do
    series[i] = {x = h.steps, y = h.norms[name], name = string.format("%d: %s", i, name)}
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if o.logy == nil then o.logy = true end
  o.title = o.title or "gradient norm per layer"
  o.xlabel = o.xlabel or h.unit or "epoch"
  o.ylabel = o.ylabel or "gradient norm (2-norm of the layer's weights)"
  call(C.lines, fn, o, series)
end

-- nn.plot.graph(t, opts): the recorded computation behind t (after a
-- backward also each node's gradient norm): boxes for operations (blue),
-- leaves (green) and t (orange), arrows along the data, inputs on the left.
-- opts.max_nodes (60) caps the drawing; the title says how many were left.
local graph_of = nn._graph
nn._graph = nil
function plot.graph(t, opts)
  local fn = "nn.plot.graph"
  opts = check_opts(fn, opts, {max_nodes = "number"})
  if not is_tensor(t) then
    error(fn .. ": expected an nn.Tensor made by recorded operations, got " .. type(t), 2)
  end
  local limit = math.floor(opts.max_nodes or 60)
  if limit < 1 or limit > 2000 then error(fn .. ": max_nodes must be 1..2000", 2) end
  local ok, nodes, edges, more = pcall(graph_of, t, limit)
  if not ok then error(fn .. ": " .. strip(nodes):gsub("^graph: ", ""), 2) end
  -- columns by the longest path to t, so an input sits left of every use
  local depth = {}
  for i, nd in ipairs(nodes) do depth[i] = nd.depth end
  for _ = 1, #nodes do
    local changed = false
    for e = 1, #edges, 2 do
      local from, to = edges[e], edges[e + 1]
      if depth[from] < depth[to] + 1 then depth[from] = depth[to] + 1; changed = true end
    end
    if not changed then break end
  end
  local maxd = 0
  for i = 1, #nodes do maxd = math.max(maxd, depth[i]) end
  local columns = {}
  for i = 1, #nodes do
    local c = maxd - depth[i]
    columns[c] = columns[c] or {}
    table.insert(columns[c], i)
  end
  local list = {}
  for c, members in pairs(columns) do
    local k = #members
    for j, i in ipairs(members) do
      local nd = nodes[i]
      local label = nd.name .. "\n" .. nd.shape
      if nd.gnorm then label = label .. string.format("\n|grad| %.3g", nd.gnorm) end
      if nd.freed then label = label .. "\n(freed)" end
      list[i] = {x = c, y = (k + 1) / 2 - j, label = label,
                 kind = i == 1 and 2 or (nd.leaf and 1 or 0)}
    end
  end
  local o = {}
  for k, v in pairs(opts) do if k ~= "max_nodes" then o[k] = v end end
  if more then
    o.title = o.title or string.format("computation graph (the first %d nodes)", limit)
  elseif #nodes == 1 and nodes[1].freed and not nodes[1].leaf then
    -- backward frees the graph: say how to keep it rather than draw one box
    o.title = o.title or "graph freed by backward (keep it: retain_graph = true)"
  end
  call(C.graph, fn, o, list, edges)
end

-- nn.plot.activations(names, opts): each activation f (a name or a list of
-- names; default sigmoid, tanh, relu, leaky_relu) over opts.range (default
-- {-4, 4}) and, unless opts.derivative == false, its derivative f' as
-- autograd computes it (the gradient a layer's backward multiplies by).
-- The key gives each formula from the registry of activations.
function plot.activations(names, opts)
  local fn = "nn.plot.activations"
  opts = check_opts(fn, opts, {derivative = "boolean", range = "table", points = "number"})
  if names == nil then names = {"sigmoid", "tanh", "relu", "leaky_relu"} end
  if type(names) == "string" then names = {names} end
  if type(names) ~= "table" or #names == 0 then
    error(fn .. ": names must be an activation name or a list of names, got " .. type(names), 2)
  end
  local lo, hi = -4, 4
  if opts.range then
    lo, hi = opts.range[1], opts.range[2]
    if type(lo) ~= "number" or type(hi) ~= "number" or not (lo < hi) then
      error(fn .. ": range must be {lo, hi} with lo < hi", 2)
    end
  end
  local n = math.floor(opts.points or 201)
  if n < 2 or n > 100000 then error(fn .. ": points must be 2..100000", 2) end
  local formula = {}
  for _, a in ipairs(nn.registry.activations) do formula[a.name] = a.formula end
  local x = nn.linspace(lo, hi, n)
  local xs = x:totable()
  -- a panel per function: f solid, f' dashed in its colour; the formula
  -- is the panel's title
  local series, titles = {}, {}
  for _, name in ipairs(names) do
    if type(name) ~= "string" then error(fn .. ": every name must be a string", 2) end
    if name == "softmax" then
      error(fn .. ": softmax acts on a whole row, not on one number; plot it with nn.plot.lines", 2)
    end
    local xv = x:clone():requires_grad()
    local ok, y = pcall(xv.act, xv, name)
    if not ok then error(fn .. ": " .. strip(y):gsub("^act: ", ""), 2) end
    y:backward(nn.ones(n))
    local f = formula[name]
    titles[#titles + 1] = f and (name .. "(x) = " .. f) or name
    series[#series + 1] = {x = xs, y = y:detach():totable(), name = name .. "(x)",
                           panel = #titles}
    if opts.derivative ~= false then
      series[#series + 1] = {x = xs, y = xv.grad:totable(), name = name .. "'(x)",
                             panel = #titles}
    end
  end
  local o = {}
  for k, v in pairs(opts) do
    if k ~= "derivative" and k ~= "range" and k ~= "points" then o[k] = v end
  end
  if #titles > 1 then
    o.title = o.title or (opts.derivative ~= false and
                          "activation functions f (solid) and their derivatives f' (dashed)"
                          or "activation functions")
  end
  o.xlabel = o.xlabel or "x (the neuron's input z)"
  o.ylabel = o.ylabel or (opts.derivative ~= false and "f(x), f'(x)" or "f(x)")
  call(C.panels, fn, o, series, titles)
end

-- Class numbers (1..k) from labels: a list/1-D tensor of class numbers, a
-- column, or one-hot rows. 0-based labels (binary 0/1, or 0..k-1) are
-- shifted to 1-based. Every label is checked (a finite whole number >= 0,
-- at most kmax classes: the model's outputs, or 1000) before anything
-- sized by them is made. Returns the list, k and the shift.
local function label_classes(fn, y, n, what, kmax, model_k)
  -- errors at the user's call: label_classes <- [predicted_classes <-] nn.plot.x
  local lvl = model_k and 4 or 3
  local t = y
  if not is_tensor(t) then
    if type(t) ~= "table" then
      error(string.format("%s: %s must be class labels (a list or an nn.Tensor), got %s",
                          fn, what, type(y)), lvl)
    end
    t = nn.tensor(t)
  end
  local limit = model_k and string.format("the model has %d outputs", kmax)
                or string.format("at most %d classes are drawn", kmax)
  if t:dim() == 2 and select(2, t:shape()) > 1 then
    local cols = select(2, t:shape())
    if cols > kmax then
      error(string.format("%s: %s has %d columns (one-hot classes) but %s", fn, what, cols,
                          limit), lvl)
    end
    local idx = t:argmax(2):totable()
    local out = {}
    for i = 1, #idx do out[i] = type(idx[i]) == "table" and idx[i][1] or idx[i] end
    if #out ~= n then
      error(string.format("%s: %s has %d rows, expected %d", fn, what, #out, n), lvl)
    end
    return out, cols, 0
  end
  local flat = t:reshape(t:numel()):totable()
  if #flat ~= n then
    error(string.format("%s: %s has %d labels, expected %d", fn, what, #flat, n), lvl)
  end
  local lo, hi = math.huge, -math.huge
  for i = 1, #flat do
    local v = flat[i]
    if v ~= v or v == math.huge or v == -math.huge or v ~= math.floor(v) then
      error(string.format("%s: %s[%d] is %s, not a class number", fn, what, i,
                          tostring(v)), lvl)
    end
    if v < lo then lo = v end
    if v > hi then hi = v end
  end
  if lo < 0 then
    error(string.format("%s: %s holds %.17g, class numbers start at 1 (or 0 for binary)",
                        fn, what, lo), lvl)
  end
  local shift = lo == 0 and 1 or 0 -- 0-based (binary 0/1) labels
  if hi + shift > kmax then
    for i = 1, #flat do
      if flat[i] + shift > kmax then
        error(string.format("%s: %s[%d] is class %.17g but %s (classes %s)", fn, what, i,
                            flat[i], limit,
                            shift == 1 and ("0.." .. (kmax - 1)) or ("1.." .. kmax)), lvl)
      end
    end
  end
  for i = 1, #flat do flat[i] = math.tointeger(flat[i] + shift) end
  return flat, math.max(1, math.tointeger(hi + shift) or 1), shift
end

-- The two coordinate lists of an n x 2 tensor (or table of pairs).
local function two_columns(fn, x)
  if not is_tensor(x) then x = nn.tensor(x) end
  too_many(fn, x:numel() // 2, 3)
  local n, m = x:shape()
  if x:dim() ~= 2 or m ~= 2 then
    error(string.format("%s: expected points as an n x 2 tensor (2 features), got %s",
                        fn, table.concat({x:shape()}, "x")), 3)
  end
  local c = columns(x)
  return c[1], c[2], n
end

-- The finite range [lo, hi] of list v (n values); an error naming the
-- first value that is NaN or infinite.
local function finite_range(fn, v, n, what)
  local lo, hi = math.huge, -math.huge
  for i = 1, n do
    local a = v[i]
    if a ~= a or a == math.huge or a == -math.huge then
      error(string.format("%s: point %d has %s = %s: every point needs finite coordinates",
                          fn, i, what, tostring(a)), 3)
    end
    if a < lo then lo = a end
    if a > hi then hi = a end
  end
  return lo, hi
end

-- nn.plot.scatter(x, y, opts): x and y coordinates; or an n x 2 tensor of
-- points and (optionally) their class labels. opts.classes (labels) colours
-- the points by class, opts.class_names names the classes.
function plot.scatter(x, y, opts)
  local fn = "nn.plot.scatter"
  opts = check_opts(fn, opts, {classes = "any", class_names = "table"})
  local px, py, labels
  if is_tensor(x) and x:dim() == 2 and select(2, x:shape()) == 2 then
    px, py = two_columns(fn, x)
    labels = y
  else
    px, py = x, y
    labels = opts.classes
  end
  if not is_numbers(px) or not is_numbers(py) then
    error(fn .. ": expected x and y as lists of numbers or tensors", 2)
  end
  local cls, k
  if labels ~= nil then
    local n = is_tensor(px) and px:numel() or #px
    cls, k = label_classes(fn, labels, n, "classes", 1000)
    if opts.class_names then k = math.max(k, #opts.class_names) end
  end
  call(C.scatter, fn, opts, px, py, cls, k, opts.class_names)
end

-- nn.plot.hist(t, opts): histogram; opts.bins.
function plot.hist(t, opts)
  local fn = "nn.plot.hist"
  opts = check_opts(fn, opts, {bins = "number"})
  if not is_numbers(t) then
    error(fn .. ": expected a list of numbers or an nn.Tensor, got " .. type(t), 2)
  end
  call(C.hist, fn, opts, t, opts.bins)
end

local function is_model(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "nn.Model"
end

local function is_layer(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "nn.Layer"
end

-- The kernel a layer's weights picture is made of: a Dense layer's matrix
-- (draw = "neurons", 2-D) or a convolution's filters (draw = "maps", 3-D
-- {k, in, out} or 4-D {kh, kw, in, out}); nil when it has neither. How
-- to draw comes from the layer's kind (layer.draw), not its name.
local function drawable_kernel(l)
  if l.draw ~= "neurons" and l.draw ~= "maps" then return nil end
  local k = l:get_weights()[1]
  if not k then return nil end
  local d = k:dim()
  if l.draw == "neurons" and d == 2 then return k, "matrix" end
  if l.draw == "maps" and (d == 3 or d == 4) then return k, "filters" end
end

-- nn.plot.weights(layer_or_tensor, opts): heat map of a Dense layer's
-- kernel (or a tensor, or a model's opts.layer-th layer with a kernel,
-- default the first); opts.image = {h, w} draws each unit's incoming
-- weights as an h x w image; opts.max_tiles (default 100). A convolution
-- layer draws its filters as tiles: one per filter when it has one input
-- channel (or with opts.channels = "mean", their mean), else a row per
-- filter with a tile per input channel (opts.max_channels, default 8).
function plot.weights(obj, opts)
  local fn = "nn.plot.weights"
  opts = check_opts(fn, opts, {image = "table", max_tiles = "number", layer = "number",
                               channels = "string", max_channels = "number"})
  if opts.channels ~= nil and opts.channels ~= "each" and opts.channels ~= "mean" then
    error(fn .. ": channels must be \"each\" or \"mean\", got '" .. opts.channels .. "'", 2)
  end
  local w = obj
  if is_model(obj) then
    local want, seen = opts.layer or 1, 0
    w = nil
    for _, l in ipairs(obj.layers) do
      if drawable_kernel(l) then
        seen = seen + 1
        if seen == want then w = l; break end
      end
    end
    if not w then
      error(string.format("%s: the model has %d layers with a kernel to draw (Dense or " ..
                          "convolution), asked for number %d", fn, seen, want), 2)
    end
  end
  if is_layer(w) then
    local layer = w
    if not layer.built and (layer.draw == "neurons" or layer.draw == "maps") then
      error(fn .. ": the layer is not built yet (give input_dim, or fit/predict first)", 2)
    end
    local k, how = drawable_kernel(layer)
    if not k then
      error(fn .. ": a " .. layer.type .. " layer has no kernel to draw (use a Dense or " ..
            "convolution layer)", 2)
    end
    if how == "filters" then
      if opts.image then
        error(fn .. ": image is for Dense layers; a " .. layer.type ..
              " layer's filters are drawn at their own size", 2)
      end
      local text = call(C.filters, fn, opts, k, opts.max_tiles, opts.max_channels,
                        opts.channels == "mean", layer.name)
      if text then return text end
      return
    end
    w = k
  end
  if not is_tensor(w) then
    error(fn .. ": expected a Dense or convolution layer, a model or an nn.Tensor, got " ..
          type(obj), 2)
  end
  if w:dim() == 4 and not opts.image then
    -- a 4-D tensor is a convolution kernel {kh, kw, in, out}
    local text = call(C.filters, fn, opts, w, opts.max_tiles, opts.max_channels,
                      opts.channels == "mean", "filters")
    if text then return text end
    return
  end
  local th, tw
  if opts.image then
    th, tw = opts.image[1], opts.image[2]
    if math.type(th) ~= "integer" or math.type(tw) ~= "integer" or th < 1 or tw < 1 or
       #opts.image ~= 2 then
      error(fn .. ": image must be {height, width} in whole numbers", 2)
    end
  end
  local text = call(C.weights, fn, opts, w, th, tw, opts.max_tiles)
  if text then return text end
end

-- The per-sample input shape of a model, or nil when it is not known yet.
local function input_shape(model)
  local layers = model.layers
  return model.input_shape or (layers[1] and layers[1].input_shape)
end

-- nn.plot.feature_maps(model, x, layer, opts): the output of a layer that
-- makes feature maps (layer.draw == "maps": convolutions, pooling) for
-- one input x ({h, w, c} or a batch {1, h, w, c}), a tile per channel (at
-- most opts.max_tiles, default 64). layer: a layer of the model or its
-- index.
function plot.feature_maps(model, x, layer, opts)
  local fn = "nn.plot.feature_maps"
  opts = check_opts(fn, opts, {max_tiles = "number"})
  if not is_model(model) then error(fn .. ": expected a model, got " .. type(model), 2) end
  local layers = model.layers
  local index
  if is_layer(layer) then
    for i, l in ipairs(layers) do
      if rawequal(l, layer) then index = i end
    end
    if not index then
      error(fn .. ": layer '" .. layer.name .. "' is not a layer of this model", 2)
    end
  elseif type(layer) == "number" then
    index = math.tointeger(layer)
    if not index then
      error(fn .. ": a layer index must be a whole number, got " .. tostring(layer), 2)
    end
    if index < 1 or index > #layers then
      error(string.format("%s: layer %d is out of range (the model has %d layers)", fn,
                          index, #layers), 2)
    end
  else
    error(fn .. ": layer must be a layer of the model or its index, got " .. type(layer), 2)
  end
  local l = layers[index]
  if l.draw ~= "maps" then
    local maps = {}
    for i, o in ipairs(layers) do
      if o.draw == "maps" then maps[#maps + 1] = string.format("%d '%s'", i, o.name) end
    end
    error(string.format("%s: layer %d '%s' (%s) has no feature maps; %s", fn, index, l.name,
                        l.type, #maps > 0 and ("the model's layers with maps: " ..
                        table.concat(maps, ", ")) or "the model has no convolution or pooling layer"), 2)
  end
  if not is_tensor(x) then
    if type(x) ~= "table" then
      error(fn .. ": x must be one input (an nn.Tensor {h, w, channels}), got " .. type(x), 2)
    end
    x = nn.tensor(x)
  end
  local shape = {x:shape()}
  local want = input_shape(model)
  local function same(a, b, from)
    if #a - from + 1 ~= #b then return false end
    for i = 1, #b do if a[from + i - 1] ~= b[i] then return false end end
    return true
  end
  local batch
  if want then
    if same(shape, want, 1) then
      local s = {1}
      for i = 1, #shape do s[i + 1] = shape[i] end
      batch = x:reshape(table.unpack(s))
    elseif shape[1] == 1 and same(shape, want, 2) then
      batch = x
    elseif same(shape, want, 2) then
      error(string.format("%s: x holds %d inputs; give one (x[i], or x:rows(i))", fn,
                          shape[1]), 2)
    else
      error(string.format("%s: x has shape {%s}; the model takes {%s} (or a batch {1, %s})", fn,
                          table.concat(shape, ", "), table.concat(want, ", "),
                          table.concat(want, ", ")), 2)
    end
  elseif #shape >= 2 and shape[1] == 1 and #shape >= 3 then
    batch = x
  else
    local s = {1}
    for i = 1, #shape do s[i + 1] = shape[i] end
    if #s > 4 then
      error(string.format("%s: x has shape {%s}: expected one input {h, w, channels}", fn,
                          table.concat(shape, ", ")), 2)
    end
    batch = x:reshape(table.unpack(s))
  end
  local ok, out = pcall(model.predict, model, batch, {upto = index})
  if not ok then error(fn .. ": " .. strip(out):gsub("^predict: ", ""), 2) end
  local os = {out:shape()}
  table.remove(os, 1)
  if #os < 2 or #os > 3 then
    error(string.format("%s: layer %d '%s' gives {%s}, not maps", fn, index, l.name,
                        table.concat(os, ", ")), 2)
  end
  call(C.maps, fn, opts, out:reshape(table.unpack(os)), opts.max_tiles,
       l.name .. " (" .. l.type .. ")")
end

-- The classes a model tells apart: its outputs (1 output: 2 classes).
-- limit: the most the plot draws.
local function model_classes(fn, p, limit)
  local m = p:dim() == 1 and 1 or select(2, p:shape())
  if m == 1 then m = 2 end
  if m > limit then
    error(string.format("%s: the model has %d outputs; this plot draws at most %d classes",
                        fn, m, limit), 4)
  end
  return m
end

-- Predicted and true classes of a model on x, y (labels checked against
-- the model's classes); k, and the label shift (1 when labels are
-- 0-based, e.g. binary 0/1).
local function predicted_classes(fn, model, x, y, limit)
  if not is_model(model) then
    error(fn .. ": expected a model, got " .. type(model), 3)
  end
  if not is_tensor(x) then x = nn.tensor(x) end
  local p = model:predict(x, {verbose = 0})
  local n = p:shape()
  local m = model_classes(fn, p, limit)
  local truth, shift
  if y ~= nil then
    local _
    truth, _, shift = label_classes(fn, y, n, "y", m, true)
  end
  local pred = {}
  if p:dim() == 1 or select(2, p:shape()) == 1 then
    local v = p:reshape(n):totable()
    for i = 1, n do pred[i] = v[i] > 0.5 and 2 or 1 end
    shift = shift or 1
  else
    local idx = p:argmax(2):reshape(n):totable()
    for i = 1, n do pred[i] = idx[i] end
    shift = shift or 0
  end
  return pred, truth, m, shift
end

-- nn.plot.confusion(model, x, y, opts): the confusion matrix on (x, y);
-- opts.classes names the classes.
function plot.confusion(model, x, y, opts)
  local fn = "nn.plot.confusion"
  opts = check_opts(fn, opts, {classes = "table"})
  if y == nil then error(fn .. ": expected model, x, y", 2) end
  local pred, truth, k, shift = predicted_classes(fn, model, x, y, 1000)
  local counts = {}
  for i = 1, k * k do counts[i] = 0 end
  for i = 1, #pred do
    local c = (truth[i] - 1) * k + pred[i]
    counts[c] = counts[c] + 1
  end
  local names = opts.classes
  if not names and shift == 1 then
    names = {}
    for i = 1, k do names[i] = tostring(i - 1) end
  end
  call(C.confusion, fn, opts, counts, k, names)
end

-- nn.plot.decision_boundary(model, x, y, opts): class regions of a model
-- with 2 inputs over the data's range (opts.resolution points each way,
-- default 300; opts.padding, default 0.1 of the range), and the points.
function plot.decision_boundary(model, x, y, opts)
  local fn = "nn.plot.decision_boundary"
  opts = check_opts(fn, opts, {resolution = "number", padding = "number", classes = "table"})
  if not is_model(model) then error(fn .. ": expected a model, got " .. type(model), 2) end
  local px, py, n = two_columns(fn, x)
  local res = opts.resolution or 300
  if not (res >= 2 and res <= 1000) or res ~= math.floor(res) then
    error(fn .. ": resolution must be a whole number in 2..1000, got " .. tostring(res), 2)
  end
  res = math.tointeger(res)
  local pad = opts.padding or 0.1
  if not (pad >= 0 and pad <= 10) then
    error(fn .. ": padding must be 0..10, got " .. tostring(pad), 2)
  end
  local x0, x1 = finite_range(fn, px, n, "x")
  local y0, y1 = finite_range(fn, py, n, "y")
  if not (x1 >= x0 and y1 >= y0) then error(fn .. ": no finite points", 2) end
  -- A range of zero width (all points on a line) still gets an area.
  local dx = x1 > x0 and (x1 - x0) * pad or 1
  local dy = y1 > y0 and (y1 - y0) * pad or 1
  x0, x1, y0, y1 = x0 - dx, x1 + dx, y0 - dy, y1 + dy
  -- The grid goes to the model as float32: it must stay within its range.
  for _, v in ipairs({x0, x1, y0, y1, x1 - x0, y1 - y0}) do
    if not (math.abs(v) <= 3e38) then
      error(fn .. ": the points span too wide a range to draw (beyond the float32 range of " ..
            "the model's inputs)", 2)
    end
  end
  -- The labels first (checked against the model's classes, from a
  -- prediction of the points), then the grid.
  local _, labels, k, shift = predicted_classes(fn, model, x, y, 64)
  local flat = {}
  for j = 0, res - 1 do
    local gy = y0 + (y1 - y0) * j / (res - 1)
    for i = 0, res - 1 do
      flat[#flat + 1] = x0 + (x1 - x0) * i / (res - 1)
      flat[#flat + 1] = gy
    end
  end
  local grid = predicted_classes(fn, model, nn.tensor(flat, {res * res, 2}), nil, 64)
  local names = opts.classes
  if not names and shift == 1 then
    names = {}
    for i = 1, k do names[i] = "class " .. tostring(i - 1) end
  end
  local text = call(C.regions, fn, opts, grid, res, res, x0, x1, y0, y1, px, py, labels, k,
                    names)
  if text then return text end
end

-- A layer's note in a network picture: its kind in words and its
-- positional values ("dropout 0.2", "batch normalization").
local function layer_note(l)
  local words = l.type:gsub("(%l)(%u)", "%1 %2"):lower()
  local kind = nn.registry and nn.registry.layers[l.type]
  local vals = {}
  for i = 1, kind and kind.npositional or 0 do
    local v = l[kind.options[i].key]
    if type(v) == "table" then v = table.concat(v, "x") end
    vals[#vals + 1] = string.format(math.type(v) == "float" and "%g" or "%s", v)
  end
  return #vals > 0 and (words .. " " .. table.concat(vals, " ")) or words
end

-- The maps of a per-sample shape, as the diagram takes them: {h, w, c}
-- (images) or {steps, c} (sequences); nil for other shapes.
local function map_dims(shape)
  if shape and (#shape == 3 or #shape == 2) then return {table.unpack(shape)} end
end

local function numel(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

-- "6x6x8": a shape as the diagram labels it.
local function shape_text(shape)
  return table.concat(shape, "x")
end

-- nn.plot.model(model, opts): the network's layout; columns of at most
-- opts.max_neurons units (default 32) show every unit, larger ones a few
-- and "... N more"; opts.weights = false draws the structure only. Layers
-- whose kind draws maps (layer.draw == "maps": convolutions, pooling) are
-- blocks of feature maps labelled with their output shape; so is an
-- image input ({h, w, c}).
function plot.model(model, opts)
  local fn = "nn.plot.model"
  opts = check_opts(fn, opts, {max_neurons = "number", weights = "boolean"})
  if not is_model(model) then error(fn .. ": expected a model, got " .. type(model), 2) end
  local layers = model.layers
  local inputs
  local ishape = input_shape(model)
  if ishape then
    inputs = 1
    for _, d in ipairs(ishape) do inputs = inputs * d end
  end
  if not inputs then
    error(fn .. ": the model's input size is unknown (give input_dim to the first layer, " ..
          "or fit/predict first)", 2)
  end
  local cols
  local idims = #ishape >= 2 and map_dims(ishape)
  if idims then
    cols = {{units = inputs, name = "input", maps = idims, label = shape_text(ishape) .. " input"}}
  else
    cols = {{units = inputs, name = "input", label = inputs .. (inputs == 1 and " input" or " inputs")}}
  end
  local function note(text)
    local c = cols[#cols]
    c.label = c.label .. "\n" .. text
  end
  for _, l in ipairs(layers) do
    -- What to draw comes from the layer's kind (layer.draw), not its
    -- name: a column of neurons, a block of maps, or a note on the column
    -- before.
    if l.draw == "maps" and map_dims(l.output_shape) then
      local shape = l.output_shape
      local c = {units = numel(shape), name = l.name, maps = map_dims(shape),
                 learns = #l:get_weights() > 0,
                 label = shape_text(shape) .. "\n" .. layer_note(l)}
      if l.activation and l.activation ~= "linear" then c.label = c.label .. " " .. l.activation end
      cols[#cols + 1] = c
    elseif l.draw == "maps" and not l.built then
      error(fn .. ": layer '" .. l.name .. "' is not built yet (fit or predict first)", 2)
    elseif l.draw == "maps" and #l.output_shape == 1 then
      -- maps reduced to one value each (global pooling): a column of units
      local u = l.output_shape[1]
      cols[#cols + 1] = {units = u, name = l.name,
                         label = u .. (u == 1 and " unit" or " units") .. "\n" .. layer_note(l)}
    elseif l.draw == "neurons" then
      local u = l.units or (l.output_shape and l.output_shape[#l.output_shape])
      if not u then
        error(fn .. ": layer '" .. l.name .. "' is not built yet (fit or predict first)", 2)
      end
      local c = {units = u, name = l.name,
                 label = u .. (u == 1 and " unit" or " units") .. "\n" .. (l.activation or "linear")}
      if opts.weights ~= false then
        local ws = l:get_weights()
        -- edges by weight only between columns of neurons: after a block
        -- of maps the kernel's rows are not a column's units
        if ws[1] and ws[1]:dim() == 2 and not cols[#cols].maps then c.kernel = ws[1] end
        if ws[1] and ws[1]:dim() == 2 then c.bias = ws[2] end
        if c.bias then c.label = c.label .. " + bias" end
      end
      cols[#cols + 1] = c
    elseif l.activation and #l:get_weights() == 0 then
      -- an activation layer: the column before ends with it
      local c = cols[#cols]
      if #cols > 1 then
        c.label = c.label:gsub("\n[^\n]*$", "\n" .. l.activation, 1)
        if c.bias then c.label = c.label .. " + bias" end
      else
        note(l.activation)
      end
    elseif l.output_shape and #l.output_shape == 1 and
           numel(l.output_shape) ~= cols[#cols].units then
      -- fewer values than the column before (global pooling): a column
      local u = l.output_shape[1]
      cols[#cols + 1] = {units = u, name = l.name,
                         label = u .. (u == 1 and " unit" or " units") .. "\n" .. layer_note(l)}
    elseif l.output_shape and map_dims(l.output_shape) and not cols[#cols].maps then
      -- units made into maps (Reshape): a block
      cols[#cols + 1] = {units = numel(l.output_shape), name = l.name,
                         maps = map_dims(l.output_shape),
                         label = shape_text(l.output_shape) .. "\n" .. layer_note(l)}
    else
      note(layer_note(l))
    end
  end
  call(C.network, fn, opts, cols, opts.max_neurons)
end

-- nn.callbacks.LivePlot(opts): redraws loss and metrics after each epoch
-- (every opts.every epochs, and at most once per opts.interval seconds,
-- default 1) in one gnuplot process kept for the whole of fit: in a
-- window, in opts.file, or as text. Training never waits for gnuplot:
-- * gnuplot starts with the first frame, which is due `interval` seconds
--   into training (a short fit draws only its last frame, after it, in a
--   gnuplot started on a thread);
-- * frames are handed over without waiting; while gnuplot is still
--   drawing one, the next is skipped;
-- * the last frame is always drawn: at the end of fit it is handed over
--   and a background thread waits for gnuplot to draw it and exit. The
--   next fit, live:wait(), the REPL's next prompt or the end of the
--   program waits for it, so nothing is lost.
-- If gnuplot is missing or fails, LivePlot says so once on stderr and
-- training goes on.
-- opts.plot (default "history") draws another picture of the model as it
-- trains instead (decision_boundary, weights, ...: the kinds in
-- `pictures`, filled by lua/33_animate.lua, which Animate draws too).
local callbacks = nn.callbacks
local live_plots = setmetatable({}, {__mode = "k"}) -- for nn.plot._settle
local pictures = {}

if callbacks then
  function callbacks.LivePlot(opts, extra)
    local fn = "nn.callbacks.LivePlot"
    if extra ~= nil then
      error(fn .. ": takes one table of options, got a second argument (" .. type(extra) .. ")", 2)
    end
    opts = check_opts(fn, opts, {every = "number", logy = "boolean", interval = "number",
                                 plot = "string", x = "any", y = "any", layer = "number",
                                 resolution = "number", image = "table"})
    local pic = pictures._check(fn, opts)
    if pic == pictures.history then pic = nil end -- drawn as it always was
    for _, k in ipairs({"script", "render"}) do
      if opts[k] ~= nil then
        error(string.format("%s: option '%s' is not for live plots", fn, k), 2)
      end
    end
    local every = opts.every or 1
    if not (every >= 1 and every <= 1e9) or every ~= math.floor(every) then
      error(fn .. ": every must be a whole number of epochs >= 1, got " .. tostring(every), 2)
    end
    every = math.tointeger(every)
    local interval = opts.interval or 1
    if not (interval >= 0) then error(fn .. ": interval must be >= 0 seconds", 2) end
    local popts = {}
    for k, v in pairs(opts) do
      if common[k] or k == "logy" then popts[k] = v end
    end
    -- A bad file name or a text C would cut is an error now, not a
    -- warning at the first frame.
    local ok, err = pcall(C.check_opts, fn, popts)
    if not ok then error(strip(err), 2) end
    local self = setmetatable({class = "LivePlot"}, {
      __name = "nn.Callback",
      __tostring = function() return "nn.callbacks.LivePlot" end})
    -- session: gnuplot of the running fit; ending: of the last fit, still
    -- drawing its last frame in the background.
    local session, ending, hist, drawn, failed, last_epoch, last_time, last_logs
    local function warn(msg)
      if not failed then
        msg = strip(msg):gsub("^nn%.callbacks%.LivePlot: ", "")
        io.stderr:write("LivePlot: ", msg, " (training goes on without it)\n")
      end
      failed = true
    end
    local function close()
      local s = session
      session = nil
      if s then
        local ok, err = pcall(s.close, s)
        if not ok then warn(err) end
      end
    end
    -- Draws the history so far without waiting for gnuplot (starting it
    -- first if need be); force: even while gnuplot is busy (the last frame).
    -- The script of the picture (not the history) of the model now.
    local function picture()
      return pictures._draw(pic, {model = self.model, x = opts.x, y = opts.y,
                                  layer = opts.layer, hist = hist, epoch = last_epoch,
                                  logs = last_logs}, opts, popts, {_script = true})
    end
    local function draw(force)
      if failed then return end
      local ok, err = pcall(function()
        session = session or C.session(fn, popts.file)
        -- gnuplot still drawing: skip the frame before building it
        if not force and session:busy() then return end
        local posted
        if pic then
          posted = session:script(fn, picture(), false, force)
        else
          local names, lists = history_names(fn, hist)
          posted = session:history(fn, popts, names, lists, false, force)
        end
        if posted then drawn, last_time = last_epoch, C.clock() end
      end)
      if not ok then
        warn(err)
        close()
      end
    end
    self.session = function() return session end -- for tests
    -- Waits until the last frame of the last fit is drawn (a file is
    -- complete, text printed); true, or false and gnuplot's error.
    function self.wait()
      local e = ending
      ending = nil
      if not e then return true end
      local ok, err = pcall(e.close, e)
      if ok then return true end
      err = strip(err):gsub("^nn.plot session: ", "")
      return false, err
    end
    -- true while the last fit's last frame is still being drawn
    function self.busy() return ending ~= nil and not ending:finished() end
    function self.on_train_begin()
      local ok, err = self.wait()
      failed = false
      if not ok then warn(err) end
      hist, drawn, failed, last_epoch = {}, nil, false, nil
      last_time = C.clock() -- the first frame is due `interval` from now
      self.history = hist
    end
    function self.on_epoch_end(epoch, logs)
      for k, v in pairs(logs) do
        if type(k) == "string" and type(v) == "number" then
          hist[k] = hist[k] or {}
          table.insert(hist[k], v)
        end
      end
      last_epoch, last_logs = epoch, logs
      if epoch % every == 0 and C.clock() - last_time >= interval then
        draw(false)
      end
    end
    function self.on_train_end()
      if not session and last_epoch and not failed then
        -- No frame during fit: the last one is drawn by a new gnuplot
        -- started on a thread, so not even its start is waited for.
        local ok, err = pcall(function()
          if pic then
            ending = C.script_last(fn, picture(), popts.file)
            return
          end
          local names, lists = history_names(fn, hist)
          ending = C.history_last(fn, popts, names, lists)
        end)
        if ok then live_plots[self] = true else warn(err) end
        return
      end
      if last_epoch and drawn ~= last_epoch then draw(true) end
      if session and not failed then
        ending, session = session, nil
        local ok, err = pcall(ending.finish, ending)
        if not ok then
          ending = nil
          warn(err)
        end
        live_plots[self] = true
      end
      close()
    end
    return getmetatable(nn.callbacks.TerminateOnNaN()).__main_only(self)
  end
end

-- The pieces of this file that the other plot files (lua/31_*.lua and on:
-- the teaching plots, Animate) build on; lua/90_help.lua removes the table
-- once every file has run.
nn._plotkit = {C = C, call = call, strip = strip, check_opts = check_opts, common = common,
               is_tensor = is_tensor, is_model = is_model, is_layer = is_layer,
               history_names = history_names, history_table = history_table,
               two_columns = two_columns, finite_range = finite_range, columns = columns,
               label_classes = label_classes, predicted_classes = predicted_classes,
               drawable_kernel = drawable_kernel, live_plots = live_plots,
               pictures = pictures}

-- nn.plot._settle(): waits for every LivePlot still drawing its last frame
-- (the REPL calls it before its next prompt, so a frame never lands after
-- the prompt). Errors are said on stderr, as LivePlot does.
function plot._settle()
  for lp in pairs(live_plots) do
    live_plots[lp] = nil
    local ok, err = lp.wait()
    if not ok then io.stderr:write("LivePlot: ", err, "\n") end
  end
end
