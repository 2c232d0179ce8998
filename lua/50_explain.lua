-- nn.explain: one sample through a model, step by step, as text for the
-- terminal (at most 80 columns a line): forward (z = W x + b and a = f(z)
-- with the numbers), backward (the loss and every gradient) and step (one
-- optimizer update). Formulas come from nn.registry; what to show of a
-- layer comes from its fields (type, draw, activation, its weights), and
-- every number from the model itself: forward from layer(x), gradients
-- from each layer's own backward on the tape, the step from train_on_batch.
local nn = ...
local K = nn._plotkit
local is_tensor, is_model, strip = K.is_tensor, K.is_model, K.strip
local params_of, model_grads, optim_state =
  nn._explain_params, nn._explain_grads, nn._explain_optim_state
nn._explain_params, nn._explain_grads, nn._explain_optim_state = nil, nil, nil

local explain = {}
nn.explain = explain

local WIDTH = 80
local SMALL = 32      -- a Dense layer with units * inputs up to this shows all of W
local FEW = 4         -- values shown of a long vector
local MAXCOLS, MAXROWS = 8, 8

---------------------------------------------------------------- numbers

-- A number as a student reads it: 3 significant digits, no "-0".
local function num(v)
  if v ~= v then return "nan" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if v == 0 then return "0" end
  local s = string.format("%.3g", v)
  if s:find("e") then s = s:gsub("e([-+])0*(%d)", "e%1%2"):gsub("e%+", "e") end
  return s
end

local function flat(t) return t:reshape(t:numel()):totable() end

local function shape_of(t) return {t:shape()} end

-- "3", "784", "8x8x4": a per-sample shape.
local function shape_text(s)
  local p = {}
  for i = 1, #s do p[i] = tostring(s[i]) end
  return table.concat(p, "x")
end

-- "[1, 2, 3]", or "[1, 2, 3, 4, ...]" when longer than `few`.
local function list(vals, few)
  few = few or FEW
  local p = {}
  for i = 1, math.min(#vals, few) do p[i] = num(vals[i]) end
  if #vals > few then p[#p + 1] = "..." end
  return "[" .. table.concat(p, ", ") .. "]"
end

local function range_of(vals)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(vals) do
    if v < lo then lo = v end
    if v > hi then hi = v end
  end
  return lo, hi
end

-- "x = [0.1, 0.5, 0, 0.2, ...] (784 values), min 0, max 1; 600 are 0",
-- the range on a line of its own when the whole does not fit after ind
-- (the indent the caller writes first).
local function summary(name, vals, ind)
  local n = #vals
  if n <= 8 then return string.format("%s = %s", name, list(vals, 8)) end
  local lo, hi = range_of(vals)
  local zeros = 0
  for _, v in ipairs(vals) do if v == 0 then zeros = zeros + 1 end end
  local head = string.format("%s = %s (%d values)", name, list(vals), n)
  local tail = string.format("min %s, max %s%s", num(lo), num(hi),
                             zeros > 0 and string.format(", %d are 0", zeros) or "")
  ind = ind or "  "
  if #ind + #head + 2 + #tail <= WIDTH then return head .. ", " .. tail end
  return head .. "\n" .. ind .. "  " .. tail
end

---------------------------------------------------------------- text blocks

-- A block is a list of lines of one width: a matrix, a column vector, or
-- a title over one. Blocks are put side by side when they fit, with an
-- operator (x, +, =) on the middle line, and one under another when not.
local function pad(s, w) return s .. string.rep(" ", w - #s) end
local function lpad(s, w) return string.rep(" ", w - #s) .. s end

local function width(lines)
  local w = 0
  for _, l in ipairs(lines) do if #l > w then w = #l end end
  return w
end

-- rows: a list of rows of numbers, as lines "[ 1  2  3 ]" at most maxw
-- wide (default WIDTH - 8). Long rows and long lists of rows are elided in
-- the middle with "...".
local function matrix_lines(rows, maxw)
  maxw = maxw or WIDTH - 8
  local nr, nc = #rows, #rows[1]
  local ri = {}
  if nr > MAXROWS then ri = {1, 2, 3, false, nr - 1, nr} else
    for i = 1, nr do ri[i] = i end end
  local out
  for k = math.min(nc, MAXCOLS), math.min(nc, 2), -1 do
    local ci = {}
    if k >= nc then for j = 1, nc do ci[j] = j end
    else
      for j = 1, k - 1 do ci[j] = j end
      ci[k], ci[k + 1] = false, nc
    end
    local cells, cw = {}, {}
    for a, i in ipairs(ri) do
      cells[a] = {}
      for b, j in ipairs(ci) do
        local s = (i and j) and num(rows[i][j]) or ((i or b == 1) and "..." or "")
        cells[a][b] = s
        if #s > (cw[b] or 0) then cw[b] = #s end
      end
    end
    out = {}
    for a in ipairs(ri) do
      local p = {}
      for b in ipairs(ci) do p[b] = lpad(cells[a][b], cw[b]) end
      out[a] = "[ " .. table.concat(p, "  ") .. " ]"
    end
    if #out[1] <= maxw then break end
  end
  return out
end

local function column(vals)
  local rows = {}
  for i, v in ipairs(vals) do rows[i] = {v} end
  return matrix_lines(rows)
end

local function rows_of(t)
  if t:dim() == 1 then return {flat(t)} end
  local r, c = t:shape()
  local v, rows = flat(t), {}
  for i = 1, r do
    rows[i] = {}
    for j = 1, c do rows[i][j] = v[(i - 1) * c + j] end
  end
  return rows
end

-- parts: {title, lines} blocks and operator strings, in reading order;
-- shorter blocks are centred on the tallest; gap: spaces between parts.
local function side_by_side(parts, indent, gap)
  local h = 0
  for _, p in ipairs(parts) do
    if type(p) == "table" and #p[2] > h then h = #p[2] end
  end
  local mid = math.floor((h + 1) / 2)
  local out = {string.rep(" ", indent)}
  for r = 1, h do out[r + 1] = string.rep(" ", indent) end
  for k, p in ipairs(parts) do
    local sep = k > 1 and string.rep(" ", gap or 1) or ""
    if type(p) == "string" then
      out[1] = out[1] .. sep .. string.rep(" ", #p)
      for r = 1, h do out[r + 1] = out[r + 1] .. sep .. (r == mid and p or string.rep(" ", #p)) end
    else
      local w = math.max(width(p[2]), #p[1])
      local off = math.floor((h - #p[2]) / 2)
      out[1] = out[1] .. sep .. pad(p[1], w)
      for r = 1, h do out[r + 1] = out[r + 1] .. sep .. pad(p[2][r - off] or "", w) end
    end
  end
  for i, l in ipairs(out) do out[i] = l:gsub("%s+$", "") end
  if out[1] == "" then table.remove(out, 1) end
  return out
end

-- The parts side by side when that fits in WIDTH, else each block under
-- its title ("W =" over the matrix; a one-line block beside it).
local function blocks(parts, indent, gap)
  local lines = side_by_side(parts, indent, gap)
  if width(lines) <= WIDTH then return lines end
  local out, ind = {}, string.rep(" ", indent)
  for _, p in ipairs(parts) do
    if type(p) == "table" and #p[2] == 1 and #ind + #p[1] + 3 + #p[2][1] <= WIDTH then
      out[#out + 1] = ind .. p[1] .. " = " .. p[2][1]
    elseif type(p) == "table" then
      out[#out + 1] = ind .. p[1] .. " ="
      for _, l in ipairs(p[2]) do out[#out + 1] = ind .. "  " .. l end
    end
  end
  return out
end

-- Breaks lines longer than WIDTH at a space, continuing indented.
local function wrap(line)
  if #line <= WIDTH then return {line} end
  local indent = #line:match("^ *") + 4
  if indent > 40 then indent = 4 end
  local out, rest = {}, line
  while #rest > WIDTH do
    local cut
    for i = WIDTH, indent + 10, -1 do
      if rest:sub(i, i) == " " then cut = i break end
    end
    cut = cut or WIDTH
    out[#out + 1] = rest:sub(1, cut):gsub("%s+$", "")
    rest = string.rep(" ", indent) .. rest:sub(cut + 1):gsub("^%s+", "")
  end
  out[#out + 1] = rest
  return out
end

-- A text being written: lines added one by one or as blocks.
local function new_text()
  local t = {lines = {}}
  function t.add(fmt, ...)
    local s = select("#", ...) > 0 and string.format(fmt, ...) or fmt
    for line in (s .. "\n"):gmatch("(.-)\n") do
      for _, l in ipairs(wrap(line)) do t.lines[#t.lines + 1] = l end
    end
  end
  function t.addlines(ls) for _, l in ipairs(ls) do t.add(l) end end
  function t.done(opts)
    local s = table.concat(t.lines, "\n") .. "\n"
    if opts.print ~= false then io.write(s) end
    return s
  end
  return t
end

---------------------------------------------------------------- registry

local function find_named(list_, name)
  for _, e in ipairs(list_) do
    if e.name == name or e.alias == name then return e end
  end
end

-- "relu(z), relu(x) = max(0, x)" for an activation name.
local function act_formula(name)
  local e = find_named(nn.registry.activations, name)
  return e and e.formula or "?", e
end

-- The value text of a layer option as the registry writes defaults.
local function value_text(v)
  if type(v) == "table" then
    local p = {}
    for i, x in ipairs(v) do p[i] = value_text(x) end
    return "{" .. table.concat(p, ", ") .. "}"
  elseif type(v) == "string" then
    return '"' .. v .. '"'
  elseif math.type(v) == "float" then
    return string.format("%.6g", v)
  end
  return tostring(v)
end

-- "pool_size = {2, 2}, padding = "same"": the positional options and the
-- ones set to other than their default, from the kind's option list.
local function options_text(l)
  local kind = nn.registry.layers[l.type]
  if not kind then return nil end
  local p = {}
  for _, o in ipairs(kind.options) do
    local ok, v = pcall(function() return l[o.key] end)
    if ok and v ~= nil and type(v) ~= "function" and not is_tensor(v) then
      local s = value_text(v)
      if o.positional or (o.default ~= nil and s ~= o.default) then
        p[#p + 1] = o.key .. " = " .. s
      end
    end
  end
  return #p > 0 and table.concat(p, ", ") or nil
end

---------------------------------------------------------------- checks

local function fail(fn, msg, level) error(fn .. ": " .. msg, (level or 1) + 1) end

local function check_opts(fn, opts, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fn, "options must be a table, got " .. type(opts), 3) end
  local valid = {print = "boolean"}
  for k, v in pairs(extra or {}) do valid[k] = v end
  for k, v in pairs(opts) do
    if not valid[k] then
      local names = {}
      for n in pairs(valid) do names[#names + 1] = n end
      table.sort(names)
      fail(fn, string.format("unknown option '%s' (valid: %s)", tostring(k),
                             table.concat(names, ", ")), 3)
    end
    if type(v) ~= valid[k] then
      fail(fn, string.format("option '%s' must be a %s, got %s", k, valid[k], type(v)), 3)
    end
  end
  return opts
end

local function check_model(fn, model)
  if not is_model(model) then fail(fn, "expected a model (nn.Sequential), got " ..
                                   (is_tensor(model) and "a tensor" or type(model)), 3) end
  if #model.layers == 0 then fail(fn, "the model has no layers", 3) end
end

local function numel(s)
  local n = 1
  for _, d in ipairs(s) do n = n * d end
  return n
end

-- One sample of x as a batch of one ({1, input shape}), and a note when
-- it is the first row of a batch. x: a tensor or a (nested) list.
local function sample(fn, model, x)
  local shape = model.input_shape or model.layers[1].input_shape
  if not shape then
    fail(fn, "the model is not built: give its first layer input_dim or input_shape, " ..
         "or fit it first", 3)
  end
  if x == nil then fail(fn, "expected a sample x (a tensor or a list of numbers)", 3) end
  if type(x) == "number" then x = {x} end
  if not is_tensor(x) then
    if type(x) ~= "table" then
      fail(fn, "x must be a tensor or a list of numbers, got " .. type(x), 3)
    end
    local ok, t = pcall(nn.tensor, x)
    if not ok then fail(fn, "x: " .. strip(t), 3) end
    x = t
  end
  local n, note = numel(shape), nil
  local dims = {x:shape()}
  if x:dim() == #shape + 1 and numel(dims) == dims[1] * n and dims[1] >= 1 then
    if dims[1] > 1 then note = string.format("(the first of %d samples)", dims[1]) end
    x = x:rows(1, 1)
  elseif x:numel() ~= n then
    fail(fn, string.format("x has %d values (shape %s); the model takes %s per sample",
                           x:numel(), shape_text(dims), shape_text(shape)), 3)
  end
  local s1 = {1}
  for i, d in ipairs(shape) do s1[i + 1] = d end
  x = x:clone():reshape(table.unpack(s1))
  if not model.built then model:predict(x, {verbose = 0}) end
  return x, note
end

-- y for a batch of one: a number, a list, or a tensor (its first row when
-- x was a batch).
local function target(fn, model, y, batched)
  if y == nil then fail(fn, "expected a target y (a number, a list or a tensor)", 3) end
  if type(y) == "number" then y = {y} end
  if not is_tensor(y) then
    if type(y) ~= "table" then fail(fn, "y must be a number, list or tensor, got " .. type(y), 3) end
    local ok, t = pcall(nn.tensor, y)
    if not ok then fail(fn, "y: " .. strip(t), 3) end
    y = t
  end
  if batched and y:dim() >= 1 and #y > 1 and y:dim() == 2 then y = y:rows(1, 1)
  elseif batched and y:dim() == 1 and #y > 1 and numel(model.output_shape) == 1 then
    y = y:narrow(1, 1, 1)
  end
  local outs = numel(model.output_shape)
  if y:numel() ~= outs and y:numel() ~= 1 then
    fail(fn, string.format("y has %d values; the model has %d outputs (give %d values, or " ..
                           "1 class index)", y:numel(), outs, outs), 3)
  end
  return y:clone():reshape(1, y:numel())
end

---------------------------------------------------------------- layers

-- A Dense-like layer: draws as neurons, a 2-D kernel, one vector in.
-- f(z) on the tape for an activation name: t:act(name, its default
-- parameter), or the tensor method of that name for the row-wise ones
-- (softmax).
local function activate(z, name, param)
  local e = find_named(nn.registry.activations, name)
  local ok, a = pcall(z.act, z, name, param or (e and e.default))
  if ok then return a end
  return z[name](z)
end

local function is_neurons(l, xin)
  if l.draw ~= "neurons" then return false end
  local ps = params_of(l)
  return ps[1] and ps[1].weight:dim() == 2 and xin:dim() == 2
end

-- The layer's weights by name: {kernel = tensor, bias = tensor}, and the list.
local function weights(l)
  local byname, ps = {}, params_of(l)
  for _, p in ipairs(ps) do byname[p.name] = p end
  return byname, ps
end

-- How a weight is shown: a neuron layer's kernel (inputs x units) as W,
-- units x inputs, so that z = W x + b reads as the primer writes it.
local function shown(l, p, t)
  if l.draw == "neurons" and t:dim() == 2 and p.name == params_of(l)[1].name then
    return t:t():clone(), "W"
  end
  return t, p.name
end

local function header(i, l, sin, sout)
  local act = l.activation
  local a = (act and act ~= "linear") and (", " .. act) or ""
  return string.format("Layer %d: %s '%s'  %s -> %s%s", i, l.type, l.name,
                       shape_text(sin), shape_text(sout), a)
end

local function per_sample(t)
  local s = {t:shape()}
  table.remove(s, 1)
  return s
end

-- The activation line of a layer that has one: "a = relu(z), where
-- relu(x) = max(0, x)" and the values.
local function explain_activation(T, name, zvals, avals, ind)
  local f = act_formula(name)
  if f == name .. "(x)" then T.add("%sa = %s(z)", ind, name)
  else T.add("%sa = %s(z), where %s(x) = %s", ind, name, name, f) end
  if #avals <= SMALL then T.add("%sa = %s", ind, list(avals, SMALL))
  else T.add("%s%s", ind, summary("a", avals, ind)) end
end

local function forward_neurons(T, l, xin, xout)
  local w = weights(l)
  local kname = params_of(l)[1].name
  local kernel = w[kname].weight
  local W = kernel:t():clone()
  local units, inputs = W:shape()
  local b = nil
  for _, p in ipairs(params_of(l)) do if p.name ~= kname then b = p.weight end end
  local z = nn.no_grad(function()
    local zz = xin:matmul(kernel)
    if b then zz = zz + b end
    return zz
  end)
  local xv, zv, av = flat(xin), flat(z), flat(xout)
  local act = l.activation or "linear"
  local bias = b and " + b" or ""
  if units * inputs <= SMALL then
    T.add("  z = W x%s    (W: %dx%d, row j holds unit j's weights)", bias, units, inputs)
    local parts = {{"W", matrix_lines(rows_of(W))}, "x", {"x", column(xv)}}
    if b then parts[#parts + 1] = "+"; parts[#parts + 1] = {"b", column(flat(b))} end
    parts[#parts + 1] = "="
    parts[#parts + 1] = {"z", column(zv)}
    T.addlines(blocks(parts, 4))
    if inputs <= 6 then
      local wv, terms = rows_of(W)[1], {}
      for j = 1, inputs do terms[j] = string.format("(%s)(%s)", num(wv[j]), num(xv[j])) end
      if b then terms[#terms + 1] = num(flat(b)[1]) end
      T.add("    z[1] = %s = %s", table.concat(terms, " + "), num(zv[1]))
    end
  else
    T.add("  z = W x%s    (W: %dx%d, %d weights%s)", bias, units, inputs, units * inputs,
          b and string.format(", b: %d values", units) or "")
    T.add("    %s", summary("x", xv, "    "))
    T.add("    W[1, 1..%d] = %s (unit 1's weights)", FEW, list(rows_of(W)[1]))
    T.add("    %s", summary("z", zv, "    "))
  end
  if act ~= "linear" then explain_activation(T, act, zv, av, "  ") end
  return {z = z, W = W}
end

local function forward_other(T, l, xin, xout)
  local kind = nn.registry.layers[l.type]
  if kind then T.add("  %s", kind.help)
  else T.add("  A layer written in Lua: its call(self, x) maps x to y.") end
  local o = options_text(l)
  if o then T.add("  options: %s", o) end
  for _, p in ipairs(params_of(l)) do
    T.add("  %s: %s, %s", p.name, shape_text(shape_of(p.weight)),
          (p.weight:numel() <= 8 and list(flat(p.weight), 8) or
           string.format("[1..%d] = %s", FEW, list(flat(p.weight)))))
  end
  if l.activation and l.activation ~= "linear" then
    T.add("  then %s(x) = %s", l.activation, act_formula(l.activation))
  end
  T.add("  %s", summary("in", flat(xin), "  "))
  local s = per_sample(xout)
  local out = flat(xout)
  if l.draw == "maps" and #s == 3 and s[1] <= 10 and s[2] <= MAXCOLS then
    -- the first channel of the output as a picture of numbers
    local rows = {}
    for r = 1, s[1] do
      rows[r] = {}
      for c = 1, s[2] do rows[r][c] = out[((r - 1) * s[2] + (c - 1)) * s[3] + 1] end
    end
    T.add("  out, channel 1 of %d (%dx%d):", s[3], s[1], s[2])
    T.addlines(blocks({{"", matrix_lines(rows)}}, 4))
  end
  T.add("  %s", summary("out", out, "  "))
end

-- The output line and, for a sigmoid or softmax output, the prediction.
local function prediction(T, model, out)
  local v = flat(out)
  local last = model.layers[#model.layers]
  local act = last.activation
  T.add("")
  T.add("Output: %s", #v <= SMALL and list(v, SMALL) or summary("y", v, "Output: "))
  local e = act and find_named(nn.registry.activations, act)
  local name = e and e.name
  if name == "sigmoid" and #v == 1 then
    T.add("Predicted class: %d  (p = %s %s 0.5)", v[1] > 0.5 and 1 or 0, num(v[1]),
          v[1] > 0.5 and ">" or "<=")
  elseif name == "softmax" then
    local best = 1
    for i = 2, #v do if v[i] > v[best] then best = i end end
    T.add("Predicted class: %d  (the largest probability, p = %s)", best, num(v[best]))
  end
end

-- The layer-by-layer forward of x1 (inference): the input of each layer
-- and the output of the last.
local function run(model, x1)
  return nn.no_grad(function()
    local acts = {x1}
    for i, l in ipairs(model.layers) do acts[i + 1] = l(acts[i]) end
    return acts
  end)
end

---------------------------------------------------------------- forward

function explain.forward(model, x, opts)
  local fn = "nn.explain.forward"
  opts = check_opts(fn, opts)
  check_model(fn, model)
  local x1, note = sample(fn, model, x)
  local acts = run(model, x1)
  local T = new_text()
  T.add("Forward pass of one sample%s", note and " " .. note or "")
  T.add("  %s", summary("x", flat(x1), "  "))
  local info = {layers = {}}
  for i, l in ipairs(model.layers) do
    T.add("")
    T.add(header(i, l, per_sample(acts[i]), per_sample(acts[i + 1])))
    if is_neurons(l, acts[i]) then
      info.layers[i] = forward_neurons(T, l, acts[i], acts[i + 1])
    else
      forward_other(T, l, acts[i], acts[i + 1])
      info.layers[i] = {}
    end
    info.layers[i].input, info.layers[i].output = acts[i], acts[i + 1]
  end
  prediction(T, model, acts[#acts])
  info.output = acts[#acts]
  return T.done(opts), info
end

---------------------------------------------------------------- backward

local function loss_of(fn, model)
  if not model.compiled then
    fail(fn, "compile the model first (model:compile{loss = ..., optimizer = ...})", 4)
  end
  local loss = model.loss
  if type(loss) == "function" then return loss, "the compiled Lua loss function", nil end
  local e = find_named(nn.registry.losses, loss)
  if not e or not nn.losses[loss] then fail(fn, "unknown loss '" .. tostring(loss) .. "'", 4) end
  return nn.losses[loss], e.help, e.name
end

-- The gradients of one sample by each layer's own backward on the tape:
-- every layer runs once on a leaf copy of its input, the loss on a leaf
-- copy of the output, then the gradient goes down layer by layer. Weights'
-- gradients get the regularizer's term as training adds it.
local function gradients(fn, model, x1, y1)
  local lossf = loss_of(fn, model)
  local layers = model.layers
  model:zero_grad()
  local ins, outs = {}, {}
  local cur = x1
  for i, l in ipairs(layers) do
    ins[i] = cur:clone():requires_grad()
    outs[i] = l(ins[i])
    cur = outs[i]:detach():clone()
  end
  local p = cur:clone():requires_grad()
  local ok, L = pcall(lossf, y1, p)
  if not ok then fail(fn, strip(L), 3) end
  if not is_tensor(L) then L = nn.tensor{L} end
  local lossv = flat(L)[1]
  L:backward()
  local r = {loss = lossv, dout = {}, din = {}, grads = {}, ins = ins, output = cur}
  local g = p.grad
  for i = #layers, 1, -1 do
    r.dout[i] = g:clone()
    local ok, err = pcall(outs[i].backward, outs[i], g)
    if ok then
      g = ins[i].grad
      r.din[i] = g and g:clone() or nn.zeros_like(ins[i])
    else
      -- A layer without an inference gradient (Dropout): when it is the
      -- identity here, the gradient passes through unchanged.
      local a, b = flat(ins[i]:detach()), flat(outs[i]:detach())
      local same = #a == #b
      for k = 1, #a do if a[k] ~= b[k] then same = false end end
      if not same then
        local why = strip(err)
        if why:find("inference mode", 1, true) then
          why = "has no gradient in inference mode (in training it uses the batch's " ..
                "statistics), so one sample cannot be explained through it"
        end
        fail(fn, string.format("layer %d '%s' (%s) %s", i, layers[i].name, layers[i].type,
                               why), 3)
      end
      r.din[i] = g:clone():reshape(ins[i]:shape())
      r.identity = r.identity or {}
      r.identity[i] = true
    end
    local gs = {}
    for _, q in ipairs(params_of(layers[i])) do
      if q.trainable then
        local gr = q.weight.grad and q.weight.grad:clone() or nn.zeros_like(q.weight)
        local l1, l2 = layers[i].l1 or 0, layers[i].l2 or 0
        if q.regularized and (l1 ~= 0 or l2 ~= 0) then
          gr = gr + q.weight:sign() * l1 + q.weight * (2 * l2)
        end
        gs[q.name] = gr
        gs[#gs + 1] = {name = q.name, grad = gr}
      end
    end
    r.grads[i] = gs
  end
  model:zero_grad()
  r.reg = 0
  for _, l in ipairs(layers) do
    local l1, l2 = l.l1 or 0, l.l2 or 0
    if l1 ~= 0 or l2 ~= 0 then
      for _, q in ipairs(params_of(l)) do
        if q.regularized then
          r.reg = r.reg + l1 * flat(q.weight:abs():sum())[1] +
                  l2 * flat((q.weight * q.weight):sum())[1]
        end
      end
    end
  end
  return r
end

local function backward_neurons(T, l, xin, z, dA, dZ, gs)
  local kname = params_of(l)[1].name
  local W = l[kname]:t():clone()
  local units, inputs = W:shape()
  local small = units * inputs <= SMALL
  local dav, dzv = flat(dA), flat(dZ)
  local act = l.activation or "linear"
  T.add(#dav <= SMALL and ("  dL/da = " .. list(dav, SMALL)) or ("  " .. summary("dL/da", dav, "  ")))
  if act ~= "linear" then
    -- f'(z) by autograd; an activation that mixes units (softmax) has a
    -- Jacobian instead of one slope per unit.
    local zl = z:clone():requires_grad()
    local a = activate(zl, act)
    a:backward(nn.ones_like(a))
    local slope = flat(zl.grad)
    local elementwise = true
    for i = 1, #dzv do
      local want = dav[i] * slope[i]
      if math.abs(want - dzv[i]) > 1e-4 * (1 + math.abs(dzv[i])) then elementwise = false end
    end
    if elementwise then
      T.add("  dL/dz = dL/da * f'(z), f = %s", act)
      T.add(#slope <= SMALL and ("    f'(z) = " .. list(slope, SMALL))
            or ("    " .. summary("f'(z)", slope, "    ")))
    else
      T.add("  dL/dz = J^T dL/da: %s mixes the units, J[i][j] = da_i/dz_j", act)
    end
  else
    T.add("  dL/dz = dL/da (linear: f'(z) = 1)")
  end
  T.add(#dzv <= SMALL and ("  dL/dz = " .. list(dzv, SMALL)) or ("  " .. summary("dL/dz", dzv, "  ")))
  local gW = gs[kname]:t():clone()
  local xv = flat(xin)
  if small then
    T.add("  dL/dW = dL/dz x^T  (%dx%d: dL/dW[j][i] = dL/dz[j] * x[i])", units, inputs)
    T.addlines(blocks({{"dL/dz", column(dzv)}, "x", {"x^T", matrix_lines({xv})}, "=",
                       {"dL/dW", matrix_lines(rows_of(gW))}}, 4))
  else
    local j = 1
    for k = 2, #dzv do if math.abs(dzv[k]) > math.abs(dzv[j]) then j = k end end
    T.add("  dL/dW = dL/dz x^T  (%dx%d; row %d has the largest dL/dz)", units, inputs, j)
    T.add("    dL/dW[%d, 1..%d] = %s = %s * x[1..%d]", j, FEW, list(rows_of(gW)[j]),
          num(dzv[j]), FEW)
    local gv = flat(gW)
    local lo, hi = range_of(gv)
    T.add("    (min %s, max %s)", num(lo), num(hi))
  end
  for _, q in ipairs(gs) do
    if q.name ~= kname then
      local v = flat(q.grad)
      T.add("  dL/d%s = dL/dz = %s", q.name == "bias" and "b" or q.name,
            #v <= SMALL and list(v, SMALL) or list(v))
    end
  end
  return W
end

local function backward_other(T, l, xin, dA, dX, gs)
  T.add("  %s", summary("dL/dy", flat(dA), "  "))
  local act = l.activation
  if act and act ~= "linear" and #gs == 0 then
    -- an activation as a layer: its slopes, by autograd
    local xl = xin:detach():clone():requires_grad()
    local ok = pcall(function()
      local a = activate(xl, act, l.activation_param)
      a:backward(nn.ones_like(a))
    end)
    if ok and xl.grad then
      T.add("  dL/dx = dL/dy * f'(x), f = %s", act)
      local sl = flat(xl.grad)
      T.add("    %s", #sl <= 8 and ("f'(x) = " .. list(sl, 8)) or summary("f'(x)", sl, "    "))
    end
  end
  if #gs == 0 then T.add("  (no weights)") end
  for _, q in ipairs(gs) do
    local v = flat(q.grad)
    T.add("  dL/d%s (%s): %s", q.name, shape_text(shape_of(q.grad)),
          #v <= 8 and list(v, 8) or string.format("[1..%d] = %s, |g| = %s", FEW, list(v),
                                                   num(q.grad:norm())))
  end
end

function explain.backward(model, x, y, opts)
  local fn = "nn.explain.backward"
  opts = check_opts(fn, opts)
  check_model(fn, model)
  local _, help, lname = loss_of(fn, model)
  local x1, note = sample(fn, model, x)
  local y1 = target(fn, model, y, note ~= nil)
  local r = gradients(fn, model, x1, y1)
  local T = new_text()
  T.add("Backward pass of one sample%s", note and " " .. note or "")
  T.add("Loss: %s, %s", lname or "custom", help)
  local pv, yv = flat(r.output), flat(y1)
  if #pv <= SMALL then
    T.add("  y_true = %s", list(yv, SMALL))
    T.add("  y_pred = %s", list(pv, SMALL))
  else
    T.add("  %s", summary("y_true", yv, "  "))
    T.add("  %s", summary("y_pred", pv, "  "))
  end
  if r.reg ~= 0 then
    T.add("  L = %s + %s (the weights' regularizer) = %s", num(r.loss), num(r.reg),
          num(r.loss + r.reg))
  else
    T.add("  L = %s", num(r.loss))
  end
  local layers = model.layers
  local dv = flat(r.dout[#layers])
  T.add("  dL/dy_pred = %s", #dv <= SMALL and list(dv, SMALL) or list(dv))
  local info = {loss = r.loss + r.reg, layers = {}}
  for i = #layers, 1, -1 do
    local l = layers[i]
    T.add("")
    T.add(header(i, l, per_sample(r.ins[i]), per_sample(r.dout[i])))
    local li = {dout = r.dout[i], dx = r.din[i], grads = r.grads[i]}
    if is_neurons(l, r.ins[i]) then
      local kname = params_of(l)[1].name
      local b
      for _, q in ipairs(params_of(l)) do if q.name ~= kname then b = q.weight end end
      local z = nn.no_grad(function()
        local zz = r.ins[i]:matmul(l[kname])
        return b and zz + b or zz
      end)
      -- dL/dz: with a bias it is dL/db (one sample), the layer's own
      -- backward; else through the activation by autograd.
      local dZ = r.grads[i][b and params_of(l)[2].name or ""]
      if not dZ then
        local zl = z:clone():requires_grad()
        activate(zl, l.activation or "linear"):backward(r.dout[i])
        dZ = zl.grad
      end
      -- the loss and the last activation together (sigmoid or softmax with
      -- cross-entropy): dL/dz = a - y
      if i == #layers then
        local a, yy = flat(r.output), flat(y1)
        if #yy == 1 and #a > 1 then
          local k = math.floor(yy[1] + 0.5)
          yy = {}
          for j = 1, #a do yy[j] = (j == k) and 1 or 0 end
        end
        local dz, same = flat(dZ), #yy == #a
        for j = 1, #a do
          if same and math.abs(dz[j] - (a[j] - yy[j])) > 1e-4 then same = false end
        end
        li.simple = same
      end
      local W = backward_neurons(T, l, r.ins[i], z, r.dout[i], dZ, r.grads[i])
      if li.simple and l.activation ~= "linear" then
        T.add("  (the loss and %s together: dL/dz = a - y)", l.activation)
      end
      local dx = flat(r.din[i])
      if i > 1 then
        T.add("  dL/dx = W^T dL/dz = %s  (the dL/da of layer %d)",
              #dx <= SMALL and list(dx, SMALL) or list(dx), i - 1)
      end
      li.W, li.dW, li.dz = W, r.grads[i][kname]:t():clone(), dZ
    else
      backward_other(T, l, r.ins[i], r.dout[i], r.din[i], r.grads[i])
      if r.identity and r.identity[i] then
        T.add("  the identity in inference: dL/dx = dL/dy (training would mask it)")
      end
      if i > 1 then T.add("  %s", summary("dL/dx", flat(r.din[i]), "  ")) end
    end
    info.layers[i] = li
  end
  return T.done(opts), info
end

---------------------------------------------------------------- step

-- Each optimizer's rule (Keras's, as src/model/optim.c applies it) on
-- plain numbers, for showing a step without taking it: c the settings, t
-- the step number, s the state of one element ({m =, v =, a =}, changed).
-- Keyed by the registry's optimizer names.
local rules = {
  sgd = {
    keys = function(c) return c.momentum > 0 and {"m"} or {} end,
    text = function(c)
      if c.momentum > 0 and c.nesterov then
        return {"m = momentum * m - lr * g;  w = w + momentum * m - lr * g"}
      elseif c.momentum > 0 then
        return {"m = momentum * m - lr * g;  w = w + m"}
      end
      return {"w = w - lr * g"}
    end,
    update = function(c, _, w, g, s)
      if c.momentum > 0 then
        s.m = c.momentum * s.m - c.lr * g
        return c.nesterov and w + c.momentum * s.m - c.lr * g or w + s.m
      end
      return w - c.lr * g
    end,
  },
  adam = {
    keys = function() return {"m", "v"} end,
    text = function()
      return {"m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2",
              "w = w - lr_t * m / (sqrt(v) + epsilon),",
              "  lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)"}
    end,
    update = function(c, t, w, g, s)
      s.m = s.m + (g - s.m) * (1 - c.beta1)
      s.v = s.v + (g * g - s.v) * (1 - c.beta2)
      local lr_t = c.lr * math.sqrt(1 - c.beta2 ^ t) / (1 - c.beta1 ^ t)
      w = w - (c.weight_decay or 0) * c.lr * w
      return w - lr_t * s.m / (math.sqrt(s.v) + c.epsilon)
    end,
  },
  rmsprop = {
    keys = function(c)
      local k = {"v"}
      if c.centered then k[#k + 1] = "a" end
      if c.momentum > 0 then k[#k + 1] = "m" end
      return k
    end,
    text = function(c)
      local t = {"v = rho * v + (1 - rho) * g^2"}
      local d = "v + epsilon"
      if c.centered then
        t[#t + 1] = "a = rho * a + (1 - rho) * g;  d = v - a^2 + epsilon"
        d = "d"
      end
      if c.momentum > 0 then
        t[#t + 1] = "m = momentum * m + lr * g / sqrt(" .. d .. ");  w = w - m"
      else
        t[#t + 1] = "w = w - lr * g / sqrt(" .. d .. ")"
      end
      return t
    end,
    update = function(c, _, w, g, s)
      s.v = c.rho * s.v + (1 - c.rho) * g * g
      local d = s.v + c.epsilon
      if c.centered then
        s.a = c.rho * s.a + (1 - c.rho) * g
        d = d - s.a * s.a
      end
      local inc = c.lr * g / math.sqrt(d)
      if c.momentum > 0 then
        s.m = c.momentum * s.m + inc
        return w - s.m
      end
      return w - inc
    end,
  },
  adagrad = {
    keys = function() return {"v"} end,
    text = function() return {"v = v + g^2  (v starts at initial_accumulator_value)",
                              "w = w - lr * g / sqrt(v + epsilon)"} end,
    update = function(c, _, w, g, s)
      s.v = s.v + g * g
      return w - c.lr * g / math.sqrt(s.v + c.epsilon)
    end,
  },
}
rules.adamw = {
  keys = rules.adam.keys,
  text = function()
    local t = rules.adam.text()
    table.insert(t, 2, "w = w - lr * weight_decay * w  (decoupled weight decay)")
    return t
  end,
  update = rules.adam.update,
}

-- The optimizer's settings by the registry's option keys, read from the
-- model's optimizer.
local function settings(model)
  local o = model.optimizer
  local name = o.name
  local entry
  for _, e in pairs(nn.registry.optimizers) do if e.name == name then entry = e end end
  local c, p = {}, {}
  for _, op in ipairs(entry.options) do
    local v = o[op.key]
    if v == nil and op.alias then v = o[op.alias] end
    c[op.key] = v
    if v ~= nil then p[#p + 1] = op.key .. " = " .. (type(v) == "number" and num(v) or tostring(v)) end
  end
  c.momentum = c.momentum or 0
  return c, entry, table.concat(p, ", ")
end

function explain.step(model, x, y, opts)
  local fn = "nn.explain.step"
  opts = check_opts(fn, opts, {apply = "boolean"})
  check_model(fn, model)
  loss_of(fn, model)
  local x1, note = sample(fn, model, x)
  local y1 = target(fn, model, y, note ~= nil)
  local c, entry, ptext = settings(model)
  local rule = rules[entry.name]
  if not rule then fail(fn, "no step explanation for optimizer " .. entry.name, 2) end
  local apply = opts.apply ~= false
  local before = optim_state(model)
  local t = before.iterations + 1
  -- the weights in the optimizer's order, with their layers
  local ws = {}
  for _, l in ipairs(model.layers) do
    for _, p in ipairs(params_of(l)) do
      if p.trainable then ws[#ws + 1] = {layer = l, p = p, old = p.weight:clone()} end
    end
  end
  local r = gradients(fn, model, x1, y1)
  local grads = {}
  for i = 1, #model.layers do
    for _, q in ipairs(r.grads[i]) do grads[#grads + 1] = q.grad end
  end
  local loss_after
  if apply then
    local ok, err = pcall(model.train_on_batch, model, x1, y1)
    if not ok then fail(fn, strip(err), 2) end
    local g = model_grads(model)
    for i = 1, #ws do if g[i] then grads[i] = g[i] end end
    ok, err = pcall(model.test_on_batch, model, x1, y1)
    if not ok then fail(fn, strip(err), 2) end
    loss_after = err
  end
  local after = optim_state(model)
  local T = new_text()
  T.add("One %s step on one sample%s", entry.class, note and " " .. note or "")
  T.add("  %s: %s", entry.class, ptext)
  for _, line in ipairs(rule.text(c)) do T.add("  %s", line) end
  T.add("  step t = %d; g = dL/dw for this sample, as train_on_batch computes it", t)
  local info = {weights = {}}
  for i, w in ipairs(ws) do
    local old, g = flat(w.old), flat(grads[i])
    local st = {}
    for _, k in ipairs({"m", "v", "a"}) do
      local s = before.slots[i] and before.slots[i][k]
      st[k] = s and flat(s) or nil
    end
    -- the rule in Lua, from the state before the step
    local new, sim = {}, {m = {}, v = {}, a = {}}
    for j = 1, #old do
      local s = {m = st.m and st.m[j] or 0, v = st.v and st.v[j] or
                 (entry.name == "adagrad" and c.initial_accumulator_value or 0),
                 a = st.a and st.a[j] or 0}
      new[j] = rule.update(c, t, old[j], g[j], s)
      sim.m[j], sim.v[j], sim.a[j] = s.m, s.v, s.a
    end
    local newt
    if apply then newt = w.p.weight:clone() else newt = nn.tensor(new, shape_of(w.old)) end
    new = flat(newt)
    local upd = {}
    for j = 1, #old do upd[j] = new[j] - old[j] end
    local function T_(vals) return nn.tensor(vals, shape_of(w.old)) end
    local state = {}
    for _, k in ipairs(rule.keys(c)) do
      local s = after.slots[i] and after.slots[i][k]
      state[k] = (apply and s) and s or T_(sim[k])
    end
    local sv, label = shown(w.layer, w.p, w.old)
    local function view(tt) return (shown(w.layer, w.p, tt)) end
    T.add("")
    T.add("%s '%s' %s (%s%s)", w.layer.type, w.layer.name, label, shape_text(shape_of(sv)),
          label == "W" and ", kernel^T" or "")
    local parts = {{"w", view(w.old)}, {"g", view(grads[i])}}
    for _, k in ipairs({"m", "v", "a"}) do
      if state[k] then parts[#parts + 1] = {k, view(state[k])} end
    end
    parts[#parts + 1] = {"change", view(T_(upd))}
    parts[#parts + 1] = {"w new", view(newt)}
    if sv:numel() <= SMALL then
      local bl = {}
      for _, p in ipairs(parts) do bl[#bl + 1] = {p[1], matrix_lines(rows_of(p[2]))} end
      T.addlines(blocks(bl, 4, 2))
    else
      for _, p in ipairs(parts) do
        T.add("    %s[1..%d] = %s", p[1], FEW, list(flat(p[2])))
      end
      local lo, hi = range_of(upd)
      T.add("    (%d values; the change from %s to %s)", #upd, num(lo), num(hi))
    end
    -- one element worked through: the one with the largest gradient
    local j = 1
    for k = 2, #g do if math.abs(g[k]) > math.abs(g[j]) then j = k end end
    local sub, rest, dims = {}, j - 1, shape_of(w.old)
    for d = #dims, 1, -1 do
      table.insert(sub, 1, rest % dims[d] + 1)
      rest = rest // dims[d]
    end
    if label == "W" then sub[1], sub[2] = sub[2], sub[1] end
    local at = label .. "[" .. table.concat(sub, "][") .. "]"
    local extra = {}
    for _, k in ipairs(rule.keys(c)) do extra[#extra + 1] = k .. " = " .. num(flat(state[k])[j]) end
    if #extra == 0 then
      T.add("    e.g. %s: %s - %s * (%s) = %s", at, num(old[j]), num(c.lr), num(g[j]),
            num(new[j]))
    else
      T.add("    e.g. %s: w = %s, g = %s, %s -> w = %s", at, num(old[j]), num(g[j]),
            table.concat(extra, ", "), num(new[j]))
    end
    info.weights[i] = {name = w.layer.name .. "." .. w.p.name, old = w.old, grad = grads[i],
                       new = newt, state = state}
  end
  T.add("")
  if apply then
    T.add("Loss on this sample: %s before the step, %s after", num(r.loss + r.reg),
          num(loss_after))
  else
    T.add("Not applied (opts.apply = false): the model is unchanged.")
  end
  info.loss, info.loss_after = r.loss + r.reg, loss_after
  return T.done(opts), info
end
