-- nn.plot.loss_surface: a loss over two weights as contours, with the
-- paths real optimizers (nn.optimizers, stepping leaf tensors through
-- opt:step) take on it; or a model's loss along two random directions in
-- its weight space around its weights (Li et al. 2018), or along the two
-- main directions of the path of a fit. The picture is drawn by
-- src/plot/plot_surface.c.
local nn = ...
local K = nn._plotkit
local plot = nn.plot
local C, strip, is_tensor, is_model = K.C, K.strip, K.is_tensor, K.is_model

local FN = "nn.plot.loss_surface"

-- Names beyond the registry's: SGD with momentum 0.9 (plain, or Nesterov's).
local EXTRA = {momentum = {class = "SGD", settings = {momentum = 0.9}},
               nesterov = {class = "SGD", settings = {momentum = 0.9, nesterov = true}}}
-- Learning rates that draw a readable path in 50 steps on a surface of a
-- few units (Keras's defaults, made for thousands of steps, barely move).
local DEFAULT_LR = 0.05
local DEFAULT_LR_OF = {adagrad = 0.3}

-- name -> optimizer class, from nn.registry.optimizers, plus EXTRA.
local function optimizer_names()
  local class_of, names = {}, {}
  for class, desc in pairs(nn.registry.optimizers) do
    class_of[desc.name] = class
    names[#names + 1] = desc.name
  end
  for name in pairs(EXTRA) do names[#names + 1] = name end
  table.sort(names)
  return class_of, names
end

local function is_optimizer(v)
  local mt = getmetatable(v)
  return type(v) == "table" and type(mt) == "table" and mt.__name == "nn.Optimizer"
end

-- The settings of an optimizer object (its fields but its name).
local function settings_of(o)
  local s = {}
  for k, v in pairs(o) do if k ~= "name" then s[k] = v end end
  return s
end

-- One entry of opts.optimizers (i-th) as {label =, opt = a new optimizer
-- object}: new for each path, so its state (momentum, Adam's moments)
-- starts at zero and a caller's object is never stepped.
local function resolve(spec, i, lr_opt)
  local class_of, names = optimizer_names()
  local function lr_for(name)
    if type(lr_opt) == "number" then return lr_opt end
    if type(lr_opt) == "table" then
      local v = lr_opt[name] or lr_opt[i]
      if v ~= nil then return v end
    end
    return DEFAULT_LR_OF[name] or DEFAULT_LR
  end
  local function build(name, extra)
    local class, settings = class_of[name], {}
    if EXTRA[name] then
      class = EXTRA[name].class
      for k, v in pairs(EXTRA[name].settings) do settings[k] = v end
    end
    if not class then
      error(string.format("%s: unknown optimizer '%s' (valid: %s)", FN, tostring(name),
                          table.concat(names, ", ")), 0)
    end
    for k, v in pairs(extra or {}) do settings[k] = v end
    if settings.lr == nil and settings.learning_rate == nil then settings.lr = lr_for(name) end
    local ok, o = pcall(nn.optimizers[class], settings)
    if not ok then error(FN .. ": " .. strip(o), 0) end
    return o
  end
  local o
  if type(spec) == "string" then
    o = build(spec, nil)
    return {label = spec, opt = o}
  elseif is_optimizer(spec) then
    o = nn.optimizers[spec.class](settings_of(spec))
    return {label = spec.name, opt = o}
  elseif type(spec) == "table" then
    if type(spec.name) ~= "string" then
      error(string.format("%s: optimizers[%d] must be a name, an nn.optimizers object or " ..
                          "{name = ..., lr = ...}", FN, i), 0)
    end
    local extra = {}
    for k, v in pairs(spec) do if k ~= "name" and k ~= "label" then extra[k] = v end end
    o = build(spec.name, extra)
    return {label = type(spec.label) == "string" and spec.label or spec.name, opt = o}
  end
  error(string.format("%s: optimizers[%d] must be a name, an nn.optimizers object or " ..
                      "{name = ..., lr = ...}, got %s", FN, i, type(spec)), 0)
end

-- {x0, x1, y0, y1} checked.
local function check_range(r, default)
  r = r or default
  local ok = type(r) == "table" and #r == 4
  for i = 1, 4 do ok = ok and type(r[i]) == "number" and r[i] == r[i] and math.abs(r[i]) < 1e300 end
  if not ok or not (r[1] < r[2]) or not (r[3] < r[4]) then
    error(FN .. ": range must be {w1_min, w1_max, w2_min, w2_max} with min < max, got " ..
          (type(r) == "table" and "{" .. table.concat((function()
            local s = {}
            for i = 1, #r do s[i] = tostring(r[i]) end
            return s
          end)(), ", ") .. "}" or type(r)), 0)
  end
  return r[1], r[2], r[3], r[4]
end

local function check_int(name, v, default, lo, hi)
  v = v == nil and default or v
  if math.type(v) == "float" and v == math.floor(v) then v = math.tointeger(v) end
  if math.type(v) ~= "integer" or v < lo or v > hi then
    error(string.format("%s: %s must be a whole number in %d..%d, got %s", FN, name, lo, hi,
                        tostring(v)), 0)
  end
  return v
end

-- The value of f's result as a number (a number, or a one-element tensor).
local function value_of(v, where)
  if type(v) == "number" then return v end
  if is_tensor(v) and v:numel() == 1 then return v:reshape(1)[1] end
  error(string.format("%s: f(w1, w2) must return a number or a one-element nn.Tensor, got " ..
                      "%s%s", FN, is_tensor(v) and ("a tensor of " .. v:numel() .. " values")
                      or type(v), where), 0)
end

local function at(a, b) return string.format(" at (w1, w2) = (%.4g, %.4g)", a, b) end

-- The grid of f: numbers first (fast, and any f of + - * / ^ takes them);
-- when f fails on numbers (it calls tensor methods such as w1:exp()), one-
-- element tensors, without recording. Row j is w2 = y0 + j dy.
local function grid_of(f, x0, x1, y0, y1, res)
  local z, xs, ys = {}, {}, {}
  for i = 0, res - 1 do xs[i + 1] = x0 + (x1 - x0) * i / (res - 1) end
  for j = 0, res - 1 do ys[j + 1] = y0 + (y1 - y0) * j / (res - 1) end
  local as_tensors = not pcall(f, xs[1], ys[1])
  local prev = nn.set_grad_enabled(false)
  local ok, err = pcall(function()
    for j = 1, res do
      for i = 1, res do
        local a, b = xs[i], ys[j]
        local ok2, v
        if as_tensors then
          ok2, v = pcall(f, nn.tensor({a}), nn.tensor({b}))
        else
          ok2, v = pcall(f, a, b)
        end
        if not ok2 then error(FN .. ": f(w1, w2) failed" .. at(a, b) .. ": " .. strip(v), 0) end
        z[#z + 1] = value_of(v, at(a, b))
      end
    end
  end)
  nn.set_grad_enabled(prev)
  if not ok then error(err, 0) end
  return z
end

-- One optimizer's path: w1 and w2 as one-element leaf tensors that require
-- grad, f's value backwarded into their .grad, opt:step on them.
local function path_of(f, o, start, steps)
  local a = nn.tensor({start[1]}):requires_grad()
  local b = nn.tensor({start[2]}):requires_grad()
  local pts, losses = {{a[1], b[1]}}, {}
  for _ = 1, steps do
    o:zero_grad({a, b})
    local p1, p2 = a[1], b[1]
    local ok, v = pcall(f, a, b)
    if not ok then error(FN .. ": f(w1, w2) failed" .. at(p1, p2) .. ": " .. strip(v), 0) end
    if not (is_tensor(v) and v.needs_grad) then
      local okv, msg = pcall(value_of, v, at(p1, p2))
      if not okv then error(msg, 0) end
      error(FN .. ": f(w1, w2) gave no gradient" .. at(p1, p2) .. ": build its value from " ..
            "w1 and w2 with tensor operations (+ - * / ^, w1:exp(), ...), not from numbers " ..
            "taken out of them", 0)
    end
    local loss = value_of(v, at(p1, p2))
    if loss ~= loss or math.abs(loss) == math.huge then break end
    losses[#losses + 1] = loss
    v:backward()
    o:step({a, b})
    local n1, n2 = a[1], b[1]
    -- a path that blew up ends at its last finite point
    if n1 ~= n1 or n2 ~= n2 or math.abs(n1) > 1e30 or math.abs(n2) > 1e30 then break end
    pts[#pts + 1] = {n1, n2}
  end
  -- the loss at the last point (f once more, without recording)
  if #losses < #pts then
    local last = pts[#pts]
    local ok, v = pcall(nn.no_grad, f, last[1], last[2])
    if not ok then ok, v = pcall(nn.no_grad, f, nn.tensor({last[1]}), nn.tensor({last[2]})) end
    if ok then
      local okv, lv = pcall(value_of, v, "")
      if okv then losses[#losses + 1] = lv end
    end
  end
  return pts, losses
end

-- A label for the key: "adam, lr 0.05".
local function label_of(label, o)
  return string.format("%s, lr %g", label, o.lr or o.learning_rate)
end

-- The picture (C); its errors as this file's (raised at level 0).
local function draw(o, z, res, x0, x1, y0, y1, paths, log, labels)
  local ok, err = pcall(C.surface, FN, o, z, res, res, x0, x1, y0, y1, paths, log, labels)
  if not ok then error(strip(err), 0) end
end

-- The common options go to C; the rest are this plot's.
local OWN = {range = true, resolution = true, optimizers = true, start = true, steps = true,
             lr = true, log = true, x = true, y = true, batch_size = true, fit = true}
local function common_only(opts)
  local o = {}
  for k, v in pairs(opts) do if not OWN[k] then o[k] = v end end
  return o
end

-- Two random directions in a model's weight space, filter-normalised (Li
-- et al. 2018, "Visualizing the loss landscape of neural nets"): each
-- kernel's direction is scaled, per filter (output unit: the last axis),
-- to that filter's norm in the weights, so the plane's units mean the same
-- in every layer; biases (and other 1-D weights) get no direction, as in
-- the paper.
local function direction(ws)
  local d = {}
  for i, w in ipairs(ws) do
    local shape = {w:shape()}
    if #shape >= 2 then
      local out = shape[#shape]
      local rows = w:numel() // out
      local r = nn.randn(rows, out)
      local w2 = w:reshape(rows, out)
      local wn = ((w2 ^ 2):sum(1)):sqrt()
      local rn = ((r ^ 2):sum(1)):sqrt() + 1e-12
      d[i] = (r * (wn / rn)):reshape(table.unpack(shape))
    else
      d[i] = nn.zeros(table.unpack(shape))
    end
  end
  return d
end

local fit_surface

-- A model's weights as one flat vector, and back (get_weights' order).
local function flatten(ws)
  local parts = {}
  for i, w in ipairs(ws) do parts[i] = w:reshape(w:numel()) end
  return nn.cat(parts, 1)
end
local function unflatten(v, like)
  local ws, at = {}, 1
  for i, w in ipairs(like) do
    local n = w:numel()
    ws[i] = v:narrow(1, at, n):reshape(w:shape())
    at = at + n
  end
  return ws
end

-- The top eigenvector of the symmetric n x n tensor G (power iteration).
local function top_eigen(G, n)
  local v = nn.ones(n, 1) + nn.randn(n, 1) * 0.01
  local lambda = 0
  for _ = 1, 200 do
    local u = G:matmul(v)
    local norm = math.sqrt((u ^ 2):sum() + 0)
    if norm == 0 then return v, 0 end
    v = u / norm
    lambda = norm
  end
  return v, lambda
end

-- opts.fit: the model is trained by model:fit(opts.x, opts.y, opts.fit),
-- its weights recorded along the way (at most about 300 points), and the
-- loss drawn over the plane of the path's two main directions (PCA of the
-- recorded weights minus the final ones, as Li et al. do for paths: a
-- random plane would show almost none of the path) around the final
-- weights, with the path projected on it. The model keeps the fit's
-- weights, exactly.
function fit_surface(model, opts)
  local fo = opts.fit
  if type(fo) ~= "table" then
    error(FN .. ": fit must be a table of fit options ({epochs = 20, ...}), got " .. type(fo), 0)
  end
  local res = check_int("resolution", opts.resolution, 30, 2, 200)
  local n = K.is_tensor(opts.x) and opts.x:shape() or #opts.x
  local epochs = fo.epochs or 1
  local bs = fo.batch_size or 32
  local total = math.ceil(n * (1 - (fo.validation_split or 0)) / bs) * epochs
  local every = math.max(1, math.ceil(total / 300))
  local like = model:get_weights()
  local recorded, batches = {flatten(like)}, 0
  local rec = {on_batch_end = function()
    batches = batches + 1
    if batches % every == 0 then recorded[#recorded + 1] = flatten(model:get_weights()) end
  end}
  local o = {}
  for k, v in pairs(fo) do o[k] = v end
  if o.verbose == nil then o.verbose = 0 end
  local cbs = {}
  for i, c in ipairs(fo.callbacks or {}) do cbs[i] = c end
  cbs[#cbs + 1] = rec
  o.callbacks = cbs
  local ok, err = pcall(model.fit, model, opts.x, opts.y, o)
  if not ok then error(FN .. ": fit: " .. strip(err), 0) end
  local wT = model:get_weights()
  local fT = flatten(wT)
  if batches % every ~= 0 then recorded[#recorded + 1] = fT end
  local m = #recorded
  if m < 3 then error(FN .. ": the fit took fewer than 2 steps: no path to draw", 0) end
  -- PCA through the m x m Gram matrix of the offsets from the end
  local rows = {}
  for i = 1, m do rows[i] = recorded[i] - fT end
  local M = nn.stack(rows, 1)
  local G = M:matmul(M:t())
  local u1, l1 = top_eigen(G, m)
  local G2 = G - (u1:matmul(u1:t())) * l1
  local u2, l2 = top_eigen(G2, m)
  local function unit(v)
    local norm = math.sqrt((v ^ 2):sum() + 0)
    return norm > 0 and v / norm or v
  end
  local d1 = unit(M:t():matmul(u1):reshape(fT:numel()))
  local d2 = M:t():matmul(u2):reshape(fT:numel())
  d2 = unit(d2 - d1 * ((d2 * d1):sum() + 0))
  local c1, c2 = M:matmul(d1:reshape(fT:numel(), 1)), M:matmul(d2:reshape(fT:numel(), 1))
  c1, c2 = c1:reshape(m):totable(), c2:reshape(m):totable()
  local trace = 0
  local Gt = G:totable()
  for i = 1, m do trace = trace + Gt[i][i] end
  local share1 = trace > 0 and 100 * l1 / trace or 0
  local share2 = trace > 0 and 100 * l2 / trace or 0
  local x0, x1, y0, y1
  if opts.range then
    x0, x1, y0, y1 = check_range(opts.range)
  else
    local lo1, hi1, lo2, hi2 = 0, 0, 0, 0
    for i = 1, m do
      lo1, hi1 = math.min(lo1, c1[i]), math.max(hi1, c1[i])
      lo2, hi2 = math.min(lo2, c2[i]), math.max(hi2, c2[i])
    end
    local s1 = math.max(hi1 - lo1, 1e-3)
    local s2 = math.max(hi2 - lo2, s1 * 0.25)
    x0, x1 = lo1 - 0.25 * s1, hi1 + 0.25 * s1
    y0, y1 = lo2 - 0.5 * s2, hi2 + 0.5 * s2
  end
  local ok2, z = pcall(function()
    local z = {}
    for j = 0, res - 1 do
      local b = y0 + (y1 - y0) * j / (res - 1)
      for i = 0, res - 1 do
        local a = x0 + (x1 - x0) * i / (res - 1)
        model:set_weights(unflatten(fT + d1 * a + d2 * b, like))
        z[#z + 1] = model:evaluate(opts.x, opts.y)
      end
    end
    return z
  end)
  local okr, rerr = pcall(model.set_weights, model, wT)
  if not ok2 then error(FN .. ": " .. strip(z), 0) end
  if not okr then error(FN .. ": restoring the weights failed: " .. strip(rerr), 0) end
  local optname = model.optimizer and tostring(model.optimizer):match("nn%.optimizers%.(%w+)")
  local name = "fit" .. (optname and (" (" .. optname .. ")") or "")
  local log = opts.log
  if log == nil then log = true end
  draw(common_only(opts), z, res, x0, x1, y0, y1, {{name = name, w1 = c1, w2 = c2}}, log,
       {title = "the path of fit over the loss, in the plane of its two main directions",
        xlabel = string.format("direction 1 (%.0f%% of the path's spread)", share1),
        ylabel = string.format("direction 2 (%.0f%%)", share2),
        mark_name = "start of the fit", mark_x = c1[1], mark_y = c2[1]})
  local pts = {}
  for i = 1, m do pts[i] = {c1[i], c2[i]} end
  return {points = pts, range = {x0, x1, y0, y1}, variance = {share1, share2}}
end

local function model_surface(model, opts)
  if opts.x == nil or opts.y == nil then
    error(FN .. ": a model's surface needs the data: opts.x and opts.y", 0)
  end
  for _, k in ipairs({"optimizers", "start", "steps", "lr"}) do
    if opts[k] ~= nil then
      error(string.format("%s: option '%s' is for a function f(w1, w2); a model's surface " ..
                          "draws no optimizer paths (opts.fit draws the path of a fit)", FN, k), 0)
    end
  end
  if opts.fit ~= nil then return fit_surface(model, opts) end
  local x0, x1, y0, y1 = check_range(opts.range, {-1, 1, -1, 1})
  local res = check_int("resolution", opts.resolution, 30, 2, 200)
  local w0 = model:get_weights()
  local ok, z = pcall(function()
    local d1, d2 = direction(w0), direction(w0)
    local z = {}
    local eopts = opts.batch_size and {batch_size = opts.batch_size} or nil
    for j = 0, res - 1 do
      local b = y0 + (y1 - y0) * j / (res - 1)
      for i = 0, res - 1 do
        local a = x0 + (x1 - x0) * i / (res - 1)
        local ws = {}
        for k, w in ipairs(w0) do ws[k] = w + d1[k] * a + d2[k] * b end
        model:set_weights(ws)
        local loss = model:evaluate(opts.x, opts.y, eopts)
        z[#z + 1] = loss
      end
    end
    return z
  end)
  -- The weights come back exactly (copies from get_weights), error or not.
  local okr, rerr = pcall(model.set_weights, model, w0)
  if not ok then error(FN .. ": " .. strip(z), 0) end
  if not okr then error(FN .. ": restoring the weights failed: " .. strip(rerr), 0) end
  local o = common_only(opts)
  -- a trained model's loss crowds the bottom of a linear scale: its basin
  -- shows on a log scale
  local log = opts.log
  if log == nil then log = true end
  draw(o, z, res, x0, x1, y0, y1, {}, log,
       {title = "the loss around the model's weights, along two random directions",
        xlabel = "direction 1 (filter-normalised)", ylabel = "direction 2 (filter-normalised)",
        mark_name = "the model's weights", mark_x = 0, mark_y = 0})
  local rows = {}
  for j = 1, res do
    rows[j] = {}
    for i = 1, res do rows[j][i] = z[(j - 1) * res + i] end
  end
  local center
  if res % 2 == 1 and x0 < 0 and x1 > 0 then center = rows[(res + 1) // 2][(res + 1) // 2] end
  return {loss = rows, range = {x0, x1, y0, y1}, center = center}
end

local function function_surface(f, opts)
  if type(f) ~= "function" then
    error(FN .. ": expected a function f(w1, w2) or a compiled model, got " .. type(f), 0)
  end
  for _, k in ipairs({"x", "y", "batch_size", "fit"}) do
    if opts[k] ~= nil then
      error(string.format("%s: option '%s' is for a model's surface, not a function's", FN,
                          k), 0)
    end
  end
  local x0, x1, y0, y1 = check_range(opts.range, {-2, 2, -2, 2})
  local res = check_int("resolution", opts.resolution, 60, 2, 500)
  local steps = check_int("steps", opts.steps, 50, 0, 100000)
  local start = opts.start or {x0 + 0.8 * (x1 - x0), y0 + 0.85 * (y1 - y0)}
  if type(start) ~= "table" or type(start[1]) ~= "number" or type(start[2]) ~= "number" then
    error(FN .. ": start must be {w1, w2}", 0)
  end
  if opts.lr ~= nil and type(opts.lr) ~= "number" and type(opts.lr) ~= "table" then
    error(FN .. ": lr must be a number or a table {name = lr} or {lr1, lr2, ...}, got " ..
          type(opts.lr), 0)
  end
  local specs = opts.optimizers or {"sgd", "momentum", "adam"}
  local list = {}
  for i, spec in ipairs(specs) do list[i] = resolve(spec, i, opts.lr) end
  if #list > 64 then error(FN .. ": at most 64 optimizers", 0) end
  local z = grid_of(f, x0, x1, y0, y1, res)
  local result, drawn = {}, {}
  for i, e in ipairs(list) do
    local pts, losses = path_of(f, e.opt, start, steps)
    local w1, w2 = {}, {}
    for k, p in ipairs(pts) do w1[k], w2[k] = p[1], p[2] end
    local lr = e.opt.lr or e.opt.learning_rate
    result[i] = {name = e.label, lr = lr, points = pts, loss = losses}
    if result[e.label] == nil then result[e.label] = result[i] end
    drawn[i] = {name = label_of(e.label, e.opt), w1 = w1, w2 = w2}
  end
  draw(common_only(opts), z, res, x0, x1, y0, y1, drawn, opts.log,
       {title = #list > 0 and "optimizer paths on a loss surface" or "loss surface",
        mark_name = #list > 0 and "start" or nil, mark_x = start[1], mark_y = start[2]})
  return result
end

-- nn.plot.loss_surface(f, opts) / nn.plot.loss_surface(model, opts). The
-- code above raises its errors without a position (level 0); they are
-- raised again here at the caller's line.
function plot.loss_surface(f, opts)
  opts = K.check_opts(FN, opts, {range = "table", resolution = "number", optimizers = "table",
                                 start = "table", steps = "number", lr = "any",
                                 log = "boolean", x = "any", y = "any",
                                 batch_size = "number", fit = "table"})
  local ok, r = pcall(is_model(f) and model_surface or function_surface, f, opts)
  if not ok then error(type(r) == "string" and strip(r) or r, 2) end
  return r
end
