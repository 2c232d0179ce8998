-- nn.History: the object model:fit returns. history.history.loss[e],
-- history.epoch[e] (1-based epoch numbers), history:plot(opts).
local nn = ...

local History = {}
History.__index = History
History.__name = "nn.History"

-- history:plot(opts): nn.plot.history(history, opts).
function History:plot(opts)
  if not (nn.plot and nn.plot.history) then
    error("history:plot: nn.plot is not available in this build", 2)
  end
  return nn.plot.history(self, opts)
end

-- The value of `key` at the last epoch (nil when absent).
function History:last(key)
  local v = self.history[key or "loss"]
  return v and v[#v]
end

function History.__tostring(h)
  local keys = {}
  for k in pairs(h.history) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = h.history[k]
    if #v > 0 then parts[#parts + 1] = string.format("%s=%.4g", k, v[#v]) end
  end
  return string.format("nn.History(%d epochs%s%s)", #h.epoch,
                       #parts > 0 and ": " or "", table.concat(parts, ", "))
end

nn.History = History
