-- nn.MaxPooling2D from Lua: the constructor forms, layer.<option>, the output
-- shapes of a small CNN as Keras prints them, and a fit that saves and loads
-- (the 2-D window kinds' cases of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"

H.test_pool2d_kind("MaxPooling2D")
H.done()
