-- nn.GlobalAveragePooling2D from Lua: the constructor forms, layer.<option>,
-- errors, the summary of a small CNN as Keras prints it, the values (each
-- channel's mean), and a fit that saves and loads (the global kinds'
-- checks of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T = H.test

T("constructor, fields, errors", function()
  H.check_global_pool_constructor("GlobalAveragePooling2D", "global_average_pooling2d")
end)

T("summary and values", function()
  H.check_global_pool_summary("GlobalAveragePooling2D", {2.5, 25})
end)

T("in a CNN: fit, save and load", function()
  H.check_global_pool_fit("GlobalAveragePooling2D", function(x, i)
    local s = 0
    for a = 1, 6 do for b = 1, 6 do s = s + x:get(i, a, b, 1) end end
    return s > 0
  end)
end)

H.done()
