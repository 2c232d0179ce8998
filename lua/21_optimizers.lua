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

-- Keras's spellings of some options, taken as ours.
local aliases = {learning_rate = "lr", beta_1 = "beta1", beta_2 = "beta2"}

local function define(class, name, defaults)
  local valid, names = {}, {}
  for k in pairs(defaults) do
    valid[k] = true
    names[#names + 1] = k
  end
  for a, k in pairs(aliases) do
    if defaults[k] ~= nil then
      valid[a] = true
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
      k = aliases[k] or k
      if type(v) ~= type(defaults[k]) then
        error(string.format("nn.optimizers.%s: option '%s' must be a %s, got %s",
                            class, k, type(defaults[k]), type(v)), 2)
      end
      o[k] = v
    end
    o.name = name
    return setmetatable(o, {__index = {class = class}, __tostring = Optimizer.__tostring,
                            __name = "nn.Optimizer"})
  end
end

nn.optimizers = {
  SGD = define("SGD", "sgd", {lr = 0.01, momentum = 0.0, nesterov = false}),
  Adam = define("Adam", "adam", {lr = 1e-3, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7}),
  AdamW = define("AdamW", "adamw", {lr = 1e-3, beta1 = 0.9, beta2 = 0.999,
                                    epsilon = 1e-7, weight_decay = 0.004}),
  RMSprop = define("RMSprop", "rmsprop", {lr = 1e-3, rho = 0.9, momentum = 0.0,
                                          epsilon = 1e-7, centered = false}),
  Adagrad = define("Adagrad", "adagrad", {lr = 1e-3, epsilon = 1e-7,
                                          initial_accumulator_value = 0.1}),
}
