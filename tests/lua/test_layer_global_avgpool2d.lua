-- nn.GlobalAveragePooling2D from Lua: the constructor forms, layer.<option>,
-- errors, the summary of a small CNN as Keras prints it, the values (each
-- channel's mean), and a fit that saves and loads (the global kinds'
-- cases of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"

H.test_global_pool_kind("GlobalAveragePooling2D", "global_average_pooling2d", {2.5, 25}, function(x, i)
  local s = 0
  for a = 1, 6 do for b = 1, 6 do s = s + x:get(i, a, b, 1) end end
  return s > 0
end)
H.done()
