-- nn.grad and nn.gradcheck: torch-autograd style gradients of a Lua
-- function of a (nested) table of tensors, on the C tape (lnn_autograd.c).
local nn = ...

-- Copies the structure of params with every tensor replaced by a new leaf
-- over the same storage (detach, then requires_grad); leaves[i] lists them
-- with their places, so the gradients can be put back in the same shape.
local function leaves_of(params, leaves, path)
  if type(params) == "userdata" and getmetatable(params) == getmetatable(nn.zeros(1)) then
    local leaf = params:detach():requires_grad()
    leaves[#leaves + 1] = leaf
    return leaf
  end
  if type(params) ~= "table" then
    error(string.format("nn.grad: params%s is a %s; params must be a tensor or a (nested) " ..
                        "table of tensors", path, type(params)), 3)
  end
  local copy = {}
  for k, v in pairs(params) do
    copy[k] = leaves_of(v, leaves, path .. "." .. tostring(k))
  end
  return copy
end

-- The gradients in the shape of copy: each leaf's .grad, or zeros when the
-- value does not depend on it.
local function grads_of(copy)
  if type(copy) == "userdata" then
    return copy.grad or nn.zeros(copy:shape())
  end
  local out = {}
  for k, v in pairs(copy) do out[k] = grads_of(v) end
  return out
end

local function value_number(v, who)
  if type(v) == "number" then return v end
  if type(v) == "userdata" and v.numel and v:numel() == 1 then
    return v:reshape(1)[1]
  end
  error(string.format("%s: f must return a number or a one-element tensor, got %s", who,
                      type(v) == "userdata" and ("a tensor of " .. v:numel() .. " elements")
                      or type(v)), 3)
end

-- nn.grad(f) -> df; df(params, ...) -> grads, value, ...: f(params, ...)
-- returns a one-element tensor (or a number, then every gradient is zero);
-- grads mirrors params. Further results of f are passed through.
function nn.grad(f)
  if type(f) ~= "function" then
    error("nn.grad: f must be a function, got " .. type(f), 2)
  end
  return function(params, ...)
    local leaves = {}
    local copy = leaves_of(params, leaves, "")
    local was = nn.set_grad_enabled(true) -- recorded even inside nn.no_grad
    local res = table.pack(pcall(f, copy, ...))
    nn.set_grad_enabled(was)
    if not res[1] then error(res[2], 0) end
    local v = res[2]
    local value = value_number(v, "nn.grad")
    if type(v) == "userdata" and v.needs_grad then
      v:backward()
    end
    return grads_of(copy), value, table.unpack(res, 3, res.n)
  end
end

-- nn.gradcheck(f, params, ...) -> ok, max_error: autograd's gradient of
-- f against central differences, element by element (float32: eps 1e-3
-- relative to the value's scale, tolerance 1e-2 of max(1, |g|)).
function nn.gradcheck(f, params, ...)
  local eps = 1e-3
  local args = table.pack(...)
  local grads = nn.grad(f)(params, table.unpack(args, 1, args.n))
  local flat_p, flat_g = {}, {}
  local function walk(p, g)
    if type(p) == "userdata" then
      flat_p[#flat_p + 1] = p
      flat_g[#flat_g + 1] = g
      return
    end
    for k, v in pairs(p) do walk(v, g[k]) end
  end
  walk(params, grads)
  local function L()
    return nn.no_grad(function()
      return value_number(f(params, table.unpack(args, 1, args.n)), "nn.gradcheck")
    end)
  end
  local max_err = 0
  for i, p in ipairs(flat_p) do
    local pv, gv = p:reshape(p:numel()), flat_g[i]:reshape(p:numel())
    for e = 1, p:numel() do
      local keep = pv[e]
      local h = eps * math.max(1, math.abs(keep))
      pv[e] = keep + h
      local lp = L()
      pv[e] = keep - h
      local lm = L()
      pv[e] = keep
      local num, ana = (lp - lm) / (2 * h), gv[e]
      local err = math.abs(num - ana) / math.max(1, math.abs(num), math.abs(ana))
      if err > max_err then max_err = err end
    end
  end
  return max_err <= 1e-2, max_err
end
