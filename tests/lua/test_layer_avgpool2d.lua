-- nn.AveragePooling2D from Lua: the constructor forms, layer.<option>, the output
-- shapes of a small CNN as Keras prints them, and a fit that saves and loads
-- (the 2-D window kinds' checks of helper.lua).
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T = H.test

T("constructor, fields, errors", function() H.check_pool2d_constructor("AveragePooling2D") end)
T("in a CNN: shapes, fit, save and load", function() H.check_pool2d_in_cnn("AveragePooling2D") end)

H.done()
