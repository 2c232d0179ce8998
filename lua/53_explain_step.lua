-- nn.explain.step(model, x, y [, opts]): one update of the model's
-- optimizer on one sample, taken by train_on_batch itself (or only shown
-- with opts.apply = false): the rule, then for each weight its old value,
-- gradient, state, change and new value. The last nn.explain file: it
-- removes nn._explainkit.
local nn = ...
local K = nn._explainkit
local SMALL, FEW, num, flat, shape_of, shape_text =
  K.SMALL, K.FEW, K.num, K.flat, K.shape_of, K.shape_text
local list, range_of, matrix_lines, rows_of, blocks, new_text =
  K.list, K.range_of, K.matrix_lines, K.rows_of, K.blocks, K.new_text
local fail, check_opts, check_model, sample, target, strip =
  K.fail, K.check_opts, K.check_model, K.sample, K.target, K.strip
local shown, loss_of, gradients, params_of, model_grads, optim_state =
  K.shown, K.loss_of, K.gradients, K.params_of, K.model_grads, K.optim_state

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
    -- one element's step with its numbers (m and v after the step)
    example = function(c, t, w, m, v, new)
      local lr_t = c.lr * math.sqrt(1 - c.beta2 ^ t) / (1 - c.beta1 ^ t)
      local decay = c.weight_decay and string.format(" - %s * %s * w", num(c.lr),
                                                     num(c.weight_decay)) or ""
      local pm = m < 0 and "(" .. num(m) .. ")" or num(m)
      return string.format("m = %s, v = %s, lr_t = %s; %s%s - %s * %s / (sqrt(%s) + %s) = %s",
                           num(m), num(v), num(lr_t), num(w), decay, num(lr_t), pm,
                           num(v), num(c.epsilon), num(new))
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
  example = rules.adam.example,
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
    if v ~= nil then
      p[#p + 1] = op.key .. " = " .. (type(v) == "number" and num(v) or tostring(v))
    end
  end
  c.momentum = c.momentum or 0
  return c, entry, table.concat(p, ", ")
end

function nn.explain.step(model, x, y, opts)
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
    -- where element j of the stored weight is, as the text shows it
    local dims = shape_of(w.old)
    local function at(j)
      local sub, rest = {}, j - 1
      for d = #dims, 1, -1 do
        table.insert(sub, 1, rest % dims[d] + 1)
        rest = rest // dims[d]
      end
      if label == "W" then sub[1], sub[2] = sub[2], sub[1] end
      return label .. "[" .. table.concat(sub, "][") .. "]"
    end
    local order = {}
    for k = 1, #g do order[k] = k end
    table.sort(order, function(a, b)
      if math.abs(g[a]) ~= math.abs(g[b]) then return math.abs(g[a]) > math.abs(g[b]) end
      return a < b
    end)
    if sv:numel() <= SMALL then
      local bl = {}
      for _, p in ipairs(parts) do bl[#bl + 1] = {p[1], matrix_lines(rows_of(p[2]))} end
      T.addlines(blocks(bl, 4, 2))
    else
      -- the few elements with the largest gradients, in their order
      local few = {}
      for k = 1, FEW do few[k] = order[k] end
      table.sort(few)
      local names = {}
      for k, j in ipairs(few) do names[k] = at(j) end
      T.add("    %d values; the %d with the largest gradients:", #old, #few)
      T.add("    %-6s   %s", "at", table.concat(names, ", "))
      local rowsv = {{"w", old}, {"g", g}}
      for _, k in ipairs(rule.keys(c)) do rowsv[#rowsv + 1] = {k, flat(state[k])} end
      rowsv[#rowsv + 1] = {"change", upd}
      rowsv[#rowsv + 1] = {"w new", new}
      for _, rv in ipairs(rowsv) do
        local v = {}
        for k, j in ipairs(few) do v[k] = rv[2][j] end
        T.add("    %-6s = %s", rv[1], list(v))
      end
      local lo, hi = range_of(upd)
      T.add("    (every change is between %s and %s)", num(lo), num(hi))
    end
    -- one element worked through: the one with the largest gradient
    local j = order[1]
    local at_j = at(j)
    local extra = {}
    for _, k in ipairs(rule.keys(c)) do
      extra[#extra + 1] = k .. " = " .. num(flat(state[k])[j])
    end
    if rule.example then
      T.add("    e.g. %s: %s", at_j, rule.example(c, t, old[j], flat(state.m)[j],
                                                 flat(state.v)[j], new[j]))
    elseif #extra == 0 then
      T.add("    e.g. %s: %s - %s * (%s) = %s", at_j, num(old[j]), num(c.lr), num(g[j]),
            num(new[j]))
    else
      T.add("    e.g. %s: w = %s, g = %s, %s -> w = %s", at_j, num(old[j]), num(g[j]),
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

nn._explainkit = nil
