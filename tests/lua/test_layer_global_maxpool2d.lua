-- nn.GlobalMaxPooling2D from Lua: the constructor forms, layer.<option>,
-- errors, the summary of a small CNN as Keras prints it, the values (each
-- channel's maximum), and a fit that saves and loads (the global kinds'
-- cases of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"

H.test_global_pool_kind("GlobalMaxPooling2D", "global_max_pooling2d", {4, 40}, function(x, i)
  local s = -math.huge -- a bright spot anywhere
  for a = 1, 6 do for b = 1, 6 do s = math.max(s, x:get(i, a, b, 1)) end end
  return s > 2
end)
H.done()
