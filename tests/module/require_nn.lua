-- nn.so under the stock lua5.4 interpreter: require "nn" returns the nn
-- table and, as Lua modules do, sets no global; tensors, the runtime and
-- the embedded lua/ chunks all work without nnlua.
assert(nn == nil, "nn must not exist before require")
local nn = require "nn"
assert(type(nn) == "table")
assert(rawget(_G, "nn") == nil, "require must not set a global nn")
assert(rawequal(require "nn", nn), "a second require returns the same table")

-- Tensors.
local z = nn.zeros(2, 2)
assert(tostring(z) == "tensor([[0, 0],\n        [0, 0]])", tostring(z))
local a = nn.tensor{{1, 2}, {3, 4}}
local b = nn.matmul(a, nn.eye(2) * 2)
assert(b:get(2, 1) == 6 and b:get(1, 2) == 4)
assert((a + 1):sum() == 14)
assert(a:argmax() == 4)
assert(select("#", a:shape()) == 2 and #a == 2)

-- Views share storage; map calls back into this interpreter; reductions
-- along a dimension; printing of a large tensor is elided.
local row = a[2]
row[1] = 30
assert(a:get(2, 1) == 30)
assert((a:map(function(x) return x * 10 end)):sum() == 370)
local cols = a:sum(1)
assert(cols[1] == 31 and cols[2] == 6)
assert(tostring(nn.arange(2000):reshape(100, 20)):find("shape=[100x20])", 1, true))
local okm, errm = pcall(nn.matmul, nn.ones(2, 3), nn.ones(2, 3))
assert(not okm and errm:find("matmul: shapes [2x3] and [2x3] do not match", 1, true), errm)

-- Lua-side helpers from lua/ were run with nn.
local size = a:size()
assert(size[1] == 2 and size[2] == 2)

-- Runtime.
assert(type(nn.version) == "string" and nn.version:match("^%d+%.%d+"))
local cpu = nn.cpu()
assert(({scalar = 1, sse2 = 1, avx2 = 1, avx512 = 1})[cpu.isa], cpu.isa)
assert(cpu.threads == nn.threads())
nn.seed(7); local r1 = nn.rand(5):totable()
nn.seed(7); local r2 = nn.rand(5):totable()
for i = 1, 5 do assert(r1[i] == r2[i]) end

-- Errors are Lua errors, not crashes.
local ok, err = pcall(nn.tensor, {{1, 2}, {3}})
assert(not ok and err:find("ragged", 1, true), err)

-- Closing and collecting are safe.
do local t <close> = nn.ones(3); assert(t:sum() == 3) end
collectgarbage(); collectgarbage()
print("require_nn: ok")
