-- nn.explain.backward(model, x, y [, opts]): the loss of one sample with
-- its formula, then layer by layer from the output back dL/da, dL/dz =
-- dL/da * f'(z), dL/dW = dL/dz x^T, dL/db and dL/dx, each from the
-- layer's own backward (the gradients training applies).
local nn = ...
local K = nn._explainkit
local vector = K.vector
local SMALL, FEW, num, flat, shape_of, shape_text =
  K.SMALL, K.FEW, K.num, K.flat, K.shape_of, K.shape_text
local list, range_of, summary, matrix_lines, column, rows_of =
  K.list, K.range_of, K.summary, K.matrix_lines, K.column, K.rows_of
local blocks, new_text, check_opts, check_model, sample, target =
  K.blocks, K.new_text, K.check_opts, K.check_model, K.sample, K.target
local activate, is_neurons, header, per_sample, loss_of, gradients =
  K.activate, K.is_neurons, K.header, K.per_sample, K.loss_of, K.gradients
local params_of = K.params_of

local function backward_neurons(T, l, xin, z, dA, dZ, gs)
  local kname = params_of(l)[1].name
  local W = l[kname]:t():clone()
  local units, inputs = W:shape()
  local small = units * inputs <= SMALL
  local dav, dzv = flat(dA), flat(dZ)
  local act = l.activation or "linear"
  T.add("  %s", vector("dL/da", dav, "  "))
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
  T.add("  %s", vector("dL/dz", dzv, "  "))
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

function nn.explain.backward(model, x, y, opts)
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
