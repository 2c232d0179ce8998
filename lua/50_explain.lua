-- nn.explain: one sample through a model, step by step, as text for the
-- terminal (at most 80 columns a line): forward (z = W x + b and a = f(z)
-- with the numbers), backward (the loss and every gradient) and step (one
-- optimizer update), in lua/51_explain_forward.lua, 52_explain_backward.lua
-- and 53_explain_step.lua. This file holds what they share, as
-- nn._explainkit (removed by the last of them): number and matrix text at
-- 80 columns, argument checks, and the gradients of one sample. Formulas
-- come from nn.registry; what to show of a layer comes from its fields
-- (type, draw, activation, its weights), and every number from the model
-- itself: forward from layer(x), gradients from each layer's own backward
-- on the tape, the step from train_on_batch.
local nn = ...
local P = assert(nn._plotkit, "lua/30_plot.lua's nn._plotkit must load before nn.explain")
local is_tensor, is_model, strip = P.is_tensor, P.is_model, P.strip
local params_of, model_grads, optim_state =
  nn._explain_params, nn._explain_grads, nn._explain_optim_state
nn._explain_params, nn._explain_grads, nn._explain_optim_state = nil, nil, nil

nn.explain = {}

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

-- "name = [all values]" up to SMALL of them, else their summary.
local function vector(name, vals, ind)
  if #vals <= SMALL then return name .. " = " .. list(vals, SMALL) end
  return summary(name, vals, ind)
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
      local blank = string.rep(" ", #p)
      for r = 1, h do out[r + 1] = out[r + 1] .. sep .. (r == mid and p or blank) end
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
    if type(y) ~= "table" then
      fail(fn, "y must be a number, list or tensor, got " .. type(y), 3)
    end
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
    local many = outs == 1 and "1 output (give 1 value)" or
                 string.format("%d outputs (give %d values, or 1 class index)", outs, outs)
    fail(fn, string.format("y has %d values; the model has %s", y:numel(), many), 3)
  end
  return y:clone():reshape(1, y:numel())
end

---------------------------------------------------------------- layers

-- f(z) on the tape for an activation name: t:act(name, its default
-- parameter), or the tensor method of that name for the row-wise ones
-- (softmax).
local function activate(z, name, param)
  local e = find_named(nn.registry.activations, name)
  local ok, a = pcall(z.act, z, name, param or (e and e.default))
  if ok then return a end
  return z[name](z)
end

-- A Dense-like layer: draws as neurons, a 2-D kernel, one vector in.
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

---------------------------------------------------------------- one sample's gradients

-- The compiled loss as a function, its formula and its name; level: of
-- the user's call, seen from here.
local function loss_of(fn, model, level)
  level = level or 3
  if not model.compiled then
    fail(fn, "compile the model first (model:compile{loss = ..., optimizer = ...})", level)
  end
  local loss = model.loss
  if type(loss) == "function" then return loss, "the compiled Lua loss function", nil end
  local e = find_named(nn.registry.losses, loss)
  if not e or not nn.losses[loss] then
    fail(fn, "unknown loss '" .. tostring(loss) .. "'", level)
  end
  return nn.losses[loss], e.help, e.name
end

-- The gradients of one sample by each layer's own backward on the tape:
-- every layer runs once on a leaf copy of its input, the loss on a leaf
-- copy of the output, then the gradient goes down layer by layer. Weights'
-- gradients get the regularizer's term as training adds it.
local function gradients(fn, model, x1, y1)
  local lossf = loss_of(fn, model, 4)
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

nn._explainkit = {
  WIDTH = WIDTH, SMALL = SMALL, FEW = FEW, MAXCOLS = MAXCOLS,
  num = num, flat = flat, shape_of = shape_of, shape_text = shape_text, list = list,
  range_of = range_of, summary = summary, vector = vector,
  matrix_lines = matrix_lines, column = column, rows_of = rows_of, blocks = blocks,
  new_text = new_text, find_named = find_named, act_formula = act_formula,
  options_text = options_text, fail = fail, check_opts = check_opts,
  check_model = check_model, sample = sample, target = target,
  activate = activate, is_neurons = is_neurons, weights = weights, shown = shown,
  header = header, per_sample = per_sample, loss_of = loss_of, gradients = gradients,
  params_of = params_of, model_grads = model_grads, optim_state = optim_state,
  is_tensor = is_tensor, is_model = is_model, strip = strip,
}
