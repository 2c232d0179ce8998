-- nn.GlobalMaxPooling2D from Lua: the constructor forms, layer.<option>,
-- errors, the summary of a small CNN as Keras prints it, the values (each
-- channel's maximum), and a fit that saves and loads (the global kinds'
-- checks of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T = H.test

T("constructor, fields, errors", function()
  H.check_global_pool_constructor("GlobalMaxPooling2D", "global_max_pooling2d")
end)

T("summary and values", function()
  H.check_global_pool_summary("GlobalMaxPooling2D", {4, 40})
end)

T("in a CNN: fit, save and load", function()
  H.check_global_pool_fit("GlobalMaxPooling2D", function(x, i)
    local s = -math.huge -- a bright spot anywhere
    for a = 1, 6 do for b = 1, 6 do s = math.max(s, x:get(i, a, b, 1)) end end
    return s > 2
  end)
end)

H.done()
