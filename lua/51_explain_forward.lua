-- nn.explain.forward(model, x [, opts]): one sample through each layer,
-- its formula with the numbers (z = W x + b in full for a small Dense
-- layer, shapes and a few values for a large one), then the output and
-- the predicted class. Shared pieces: lua/50_explain.lua.
local nn = ...
local K = nn._explainkit
local MAXCOLS = K.MAXCOLS
local SMALL, FEW, num, flat, shape_of, shape_text =
  K.SMALL, K.FEW, K.num, K.flat, K.shape_of, K.shape_text
local list, summary, matrix_lines, column, rows_of, blocks =
  K.list, K.summary, K.matrix_lines, K.column, K.rows_of, K.blocks
local new_text, find_named, act_formula, options_text, check_opts, check_model =
  K.new_text, K.find_named, K.act_formula, K.options_text, K.check_opts, K.check_model
local sample, is_neurons, weights, header, per_sample, params_of =
  K.sample, K.is_neurons, K.weights, K.header, K.per_sample, K.params_of

-- The activation line of a layer that has one: "a = relu(z), where
-- relu(x) = max(0, x)" and the values.
local function explain_activation(T, name, avals, ind)
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
  if act ~= "linear" then explain_activation(T, act, av, "  ") end
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

function nn.explain.forward(model, x, opts)
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
