-- nn.optimizers: optimizer objects for model:compile{optimizer = ...}.
-- They only carry settings (Keras's names and defaults); the update rules
-- are in C (src/model/optim.c), which checks the values.
local nn = ...

local Optimizer = {}
Optimizer.__index = Optimizer
Optimizer.__name = "nn.Optimizer"

function Optimizer.__tostring(o)
  local keys = {}
  for k in pairs(o) do
    if k ~= "name" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(o[k]) end
  return string.format("nn.optimizers.%s{%s}", o.class, table.concat(parts, ", "))
end

-- opt:step(weights): applies each weight's .grad by this optimizer's rule
-- (C, with its state kept per object: weight i of the list is state slot
-- i); opt:zero_grad(weights) clears them; opt:iterations() counts steps.
function Optimizer.step(o, weights) nn._optim_step(o, weights) end
function Optimizer.zero_grad(o, weights) nn._optim_zero_grad(o, weights) end
function Optimizer.iterations(o) return nn._optim_iterations(o) end

-- One constructor per optimizer of nn.registry.optimizers (the C table of
-- src/model/optim.c: names, options, Keras's defaults): the object holds
-- the settings, the update rules and the range checks are in C (compile).
local function define(desc)
  local class, defaults, valid, names, alias_of = desc.class, {}, {}, {}, {}
  for _, o in ipairs(desc.options) do
    defaults[o.key] = o.value
    valid[o.key] = true
    names[#names + 1] = o.key
    for a in (o.alias or ""):gmatch("[^|]+") do
      valid[a] = true
      alias_of[a] = o.key
      names[#names + 1] = a
    end
  end
  table.sort(names)
  return function(opts)
    opts = opts or {}
    if type(opts) ~= "table" then
      error(string.format("nn.optimizers.%s: options must be a table, got %s",
                          class, type(opts)), 2)
    end
    local o = {}
    for k, v in pairs(defaults) do o[k] = v end
    for k, v in pairs(opts) do
      if not valid[k] then
        error(string.format("nn.optimizers.%s: unknown option '%s' (valid: %s)",
                            class, tostring(k), table.concat(names, ", ")), 2)
      end
      k = alias_of[k] or k
      if type(v) ~= type(defaults[k]) then
        error(string.format("nn.optimizers.%s: option '%s' must be a %s, got %s",
                            class, k, type(defaults[k]), type(v)), 2)
      end
      o[k] = v
    end
    o.name = desc.name
    return setmetatable(o, {__index = {class = class, step = Optimizer.step,
                                       zero_grad = Optimizer.zero_grad,
                                       iterations = Optimizer.iterations},
                            __tostring = Optimizer.__tostring, __name = "nn.Optimizer"})
  end
end

nn.optimizers = {}
for class, desc in pairs(nn.registry.optimizers) do
  nn.optimizers[class] = define(desc)
end
