-- Making, filling, printing, saving and loading tensors: nn.randint and
-- nn.randperm (every value in range, every value drawn, every permutation
-- of 3 about equally often, reproducible after nn.seed), nn.arange with a
-- step (numpy's counts), zeros_like/ones_like/full, fill_/zero_, totable and
-- tostring up to 8 dimensions (against numpy's own printing when numpy is
-- there), get/set errors, and nn.save_tensors/nn.load_tensors: round trips,
-- every error, a file read back by /usr/bin/python3 + numpy parsing the
-- header by hand, and files numpy wrote in every dtype read here.
local H = require "helper"
local T = H.test
local check, checkerr, same, shape, f32 = H.check, H.checkerr, H.same, H.shape, H.f32

local PY = "/usr/bin/python3"

-- Whether /usr/bin/python3 can import module (quietly).
local function py_has(module)
  local f = io.open(PY, "r")
  if not f then return false end
  f:close()
  return os.execute(PY .. " -c 'import " .. module .. "' 2>/dev/null") == true
end

-- Runs the Python source code with the arguments; returns its output and
-- whether it exited with 0.
local function py_run(code, ...)
  local src = os.tmpname()
  local f = assert(io.open(src, "w"))
  f:write(code)
  f:close()
  local cmd = {PY, src}
  for _, a in ipairs{...} do cmd[#cmd + 1] = "'" .. a .. "'" end
  local p = io.popen(table.concat(cmd, " ") .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  os.remove(src)
  return out, ok
end

local HAVE_NUMPY = py_has("numpy")
if not HAVE_NUMPY then
  print("SKIP (in part): " .. PY .. " with numpy is missing; the numpy checks do not run")
end

T("nn.randint: range, every value drawn, reproducible, shapes, errors", function()
  nn.seed(11)
  local t = nn.randint(-2, 3, {6000})
  shape(t, 6000)
  local hits = {}
  for i = 1, 6000 do
    local v = t[i]
    check(v == math.floor(v) and v >= -2 and v <= 3, "value " .. v .. " out of -2..3")
    hits[v] = (hits[v] or 0) + 1
  end
  -- 1000 draws expected per value (standard deviation about 29)
  for v = -2, 3 do
    check(hits[v] and hits[v] > 850 and hits[v] < 1150,
          "value " .. v .. " drawn " .. tostring(hits[v]) .. " times of 6000")
  end
  nn.seed(11)
  check(H.eq_table(nn.randint(-2, 3, {6000}), t), "the same after the same seed")
  check(not H.eq_table(nn.randint(-2, 3, {6000}), t), "the stream moves on")
  -- one value; the extremes exact in float32; several dimensions
  same(nn.randint(5, 5, {3}), {5, 5, 5})
  local big = nn.randint(16777215, 16777216, {200})
  local seen = {}
  for i = 1, 200 do seen[big[i]] = true end
  check(seen[16777215] and seen[16777216], "both ends drawn")
  shape(nn.randint(0, 1, {2, 3, 1, 1, 2, 1, 1, 2}), 2, 3, 1, 1, 2, 1, 1, 2)
  shape(nn.randint(0, 9, 2, 3), 2, 3)
  shape(nn.randint(0, 9, {0}), 0)
  checkerr("nn.randint: hi (1) is below lo (2)", nn.randint, 2, 1, {3})
  checkerr("nn.randint: lo must be an integer in -16777216..16777216, got 1.5",
           nn.randint, 1.5, 3, {2})
  checkerr("nn.randint: hi must be an integer in -16777216..16777216, got 16777217",
           nn.randint, 0, 16777217, {2})
  checkerr("nn.randint: lo must be an integer", nn.randint, nil, 3, {2})
  checkerr("nn.randint: needs 1 to 8 dimensions, got 0", nn.randint, 0, 3)
  checkerr("nn.randint: a shape needs 1 to 8 dimensions, got 9", nn.randint, 0, 3,
           {1, 1, 1, 1, 1, 1, 1, 1, 1})
  checkerr("nn.randint: dimension 1 must be a non-negative integer, got -1",
           nn.randint, 0, 3, {-1})
  checkerr("nn.randint: tensor: size", nn.randint, 0, 3, {1e6, 1e6, 1e6})
end)

T("nn.randperm: permutations, uniform over the 6 of 1..3, reproducible, errors", function()
  for _, n in ipairs{1, 2, 10, 1000} do
    local p = nn.randperm(n)
    shape(p, n)
    local seen = {}
    for i = 1, n do
      local v = p[i]
      check(v == math.floor(v) and v >= 1 and v <= n and not seen[v], "not a permutation")
      seen[v] = true
    end
  end
  shape(nn.randperm(0), 0)
  -- each of the 6 orders of 1..3 about 1000 times in 6000 (sd about 29)
  nn.seed(3)
  local count = {}
  for _ = 1, 6000 do
    local p = nn.randperm(3)
    local key = p[1] * 100 + p[2] * 10 + p[3]
    count[key] = (count[key] or 0) + 1
  end
  local orders = 0
  for key, c in pairs(count) do
    orders = orders + 1
    check(c > 850 and c < 1150, "order " .. key .. " drawn " .. c .. " times of 6000")
  end
  check(orders == 6, "all 6 orders drawn")
  nn.seed(4)
  local a = nn.randperm(50)
  nn.seed(4)
  check(H.eq_table(nn.randperm(50), a), "the same after the same seed")
  check(not H.eq_table(a, nn.arange(1, 51)), "shuffled")
  checkerr("nn.randperm: n must be an integer in 0..16777216, got -1", nn.randperm, -1)
  checkerr("nn.randperm: n must be an integer in 0..16777216, got 2.5", nn.randperm, 2.5)
  checkerr("nn.randperm: n must be an integer in 0..16777216, got 16777217",
           nn.randperm, 16777217)
  checkerr("nn.randperm: n must be an integer", nn.randperm, "x")
end)

T("nn.arange: n, start/stop, fractional and negative steps, errors", function()
  same(nn.arange(5), {0, 1, 2, 3, 4})
  shape(nn.arange(0), 0)
  same(nn.arange(2, 5), {2, 3, 4})
  same(nn.arange(0, 1, 0.25), {0, 0.25, 0.5, 0.75})
  same(nn.arange(5, 0, -1.5), {5, 3.5, 2, 0.5})
  same(nn.arange(-1, 2), {-1, 0, 1})
  same(nn.arange(0, 10, 3), {0, 3, 6, 9})
  same(nn.arange(1, 2, 0.3), {1, f32(1.3), f32(1.6), f32(1 + 3 * 0.3)})
  -- numpy's count ceil((stop - start) / step): none when it is <= 0
  shape(nn.arange(3, 1), 0)
  shape(nn.arange(1, 2, -1), 0)
  shape(nn.arange(2, 2), 0)
  shape(nn.arange(0, 1, 0.1), 10)
  same(nn.arange(2.5, 5), {2.5, 3.5, 4.5})
  checkerr("nn.arange: step must not be 0", nn.arange, 0, 1, 0)
  checkerr("nn.arange: stop must be a finite number, got inf", nn.arange, 0, math.huge)
  check(checkerr("nn.arange: step must be a finite number, got ", nn.arange, 0, 1, 0 / 0):find("nan"))
  checkerr("nn.arange: start must be a finite number, got x", nn.arange, "x", 1)
  checkerr("nn.arange: start 0 and stop 1e+300 must be within float32's range",
           nn.arange, 0, 1e300)
  checkerr("nn.arange: 10000000000000 elements from 0 to 1e+13 by 1 are too many",
           nn.arange, 0, 1e13)
  checkerr("nn.arange: tensor: size 1000000000000 is too large", nn.arange, 0, 1e12)
  checkerr("nn.arange: count must be a non-negative integer, got -1", nn.arange, -1)
  checkerr("nn.arange: count must be a non-negative integer, got 2.5", nn.arange, 2.5)
end)

T("zeros_like, ones_like, full, and 8 dimensions for zeros/ones/rand/randn", function()
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  local z, o = nn.zeros_like(t), nn.ones_like(t)
  same(z, {{0, 0, 0}, {0, 0, 0}})
  same(o, {{1, 1, 1}, {1, 1, 1}})
  o[1] = 7
  same(t, {{1, 2, 3}, {4, 5, 6}}, nil) -- a new tensor, not a view
  shape(nn.zeros_like(nn.zeros(0, 2)), 0, 2)
  checkerr("nn.Tensor expected", nn.zeros_like, 3)
  checkerr("nn.Tensor expected", nn.ones_like, {1})
  local closed = nn.ones(2)
  closed:close()
  checkerr("closed", nn.ones_like, closed)
  same(nn.full({2, 1, 1, 1, 1, 1, 1, 2}, 2.5),
       {{{{{{{{2.5, 2.5}}}}}}}, {{{{{{{2.5, 2.5}}}}}}}})
  for _, f in ipairs{nn.zeros, nn.ones, nn.rand, nn.randn} do
    shape(f(2, 1, 3, 1, 1, 2, 1, 2), 2, 1, 3, 1, 1, 2, 1, 2)
    shape(f{1, 2, 1, 2, 1, 2, 1, 2}, 1, 2, 1, 2, 1, 2, 1, 2)
    checkerr("needs 1 to 8 dimensions, got 9", f, 1, 1, 1, 1, 1, 1, 1, 1, 1)
  end
  local r = nn.rand(4, 1, 1, 1, 1, 1, 1, 250)
  check(r:min() >= 0 and r:max() < 1 and math.abs(r:mean() - 0.5) < 0.05)
end)

T("fill_, zero_, clone", function()
  local t = nn.ones(2, 3)
  check(rawequal(t:fill_(2.5), t), "fill_ returns t")
  same(t, {{2.5, 2.5, 2.5}, {2.5, 2.5, 2.5}})
  t[2]:fill_(-1) -- a row is a view: the parent changes
  same(t, {{2.5, 2.5, 2.5}, {-1, -1, -1}})
  local c = t:clone()
  check(rawequal(t:zero_(), t), "zero_ returns t")
  same(t, {{0, 0, 0}, {0, 0, 0}})
  same(c, {{2.5, 2.5, 2.5}, {-1, -1, -1}}) -- the clone kept its values
  check(nn.zeros(1):fill_(0.1)[1] == f32(0.1))
  checkerr("fill_: the value must be a number, got string", t.fill_, t, "1")
  checkerr("fill_: the value must be a number, got no value", t.fill_, t)
  checkerr("fill_: the value must be a number, got nil", t.fill_, t, nil)
  t:close()
  checkerr("closed", t.zero_, t)
end)

-- The nested table of shape dims with element i (0-based, row-major) = i.
local function nested(dims, d, base)
  d, base = d or 1, base or 0
  local stride = 1
  for k = d + 1, #dims do stride = stride * dims[k] end
  local out = {}
  for i = 1, dims[d] do
    out[i] = d == #dims and base + i - 1 or nested(dims, d + 1, base + (i - 1) * stride)
  end
  return out
end

local function numel(dims)
  local n = 1
  for _, d in ipairs(dims) do n = n * d end
  return n
end

T("totable and get/set up to 8 dimensions; get/set errors", function()
  for _, dims in ipairs{{2, 3, 1, 2, 2}, {1, 2, 3, 1, 2, 2}, {2, 1, 2, 1, 2, 1, 2},
                        {2, 2, 1, 3, 1, 2, 1, 2}} do
    local t = nn.arange(numel(dims)):reshape(dims)
    check(H.eq(t:totable(), nested(dims)), "totable of " .. H.show(dims))
  end
  local t = nn.arange(256):reshape(2, 2, 2, 2, 2, 2, 2, 2)
  check(t:get(2, 1, 1, 1, 1, 1, 1, 2) == 129)
  t:set(2, 2, 2, 2, 2, 2, 2, 2, -5)
  check(t:get(2, 2, 2, 2, 2, 2, 2, 2) == -5)
  local m = nn.zeros(3, 4)
  checkerr("get: index 0 out of range for dimension 1 of [3x4] (indices start at 1)",
           m.get, m, 0, 1)
  checkerr("get: index 0 out of range for dimension 2 of [3x4] (indices start at 1)",
           m.get, m, 1, 0)
  checkerr("set: index 0 out of range for dimension 1 of [3x4] (indices start at 1)",
           m.set, m, 0, 1, 5)
  local err = checkerr("get: index 5 out of range for dimension 2 of [3x4]", m.get, m, 1, 5)
  check(not err:find("start at 1", 1, true), "the hint is only for index 0")
  checkerr("set: index -1 out of range for dimension 2 of [3x4]", m.set, m, 1, -1, 5)
  checkerr("get: index 3 out of range for dimension 8 of [2x2x2x2x2x2x2x2]",
           t.get, t, 1, 1, 1, 1, 1, 1, 1, 3)
end)

-- numpy's text for an array with element i = i, as our tostring shows it:
-- "array(" becomes "tensor(" and continuation lines move one column right.
local function numpy_text(dims)
  local shape_txt = {}
  for i, d in ipairs(dims) do shape_txt[i] = tostring(d) end
  local out, ok = py_run([[
import sys, numpy as np
dims = [int(x) for x in sys.argv[1].split(",")]
np.set_printoptions(threshold=100, edgeitems=3, linewidth=75)
print(repr(np.arange(int(np.prod(dims))).reshape(dims)), end="")
]], table.concat(shape_txt, ","))
  assert(ok, out)
  out = out:gsub("^array%(", "tensor("):gsub("\n ", "\n  ")
  return out
end

T("tostring: 5 to 8 dimensions as numpy prints them; elided when large", function()
  local cases = {{2, 2, 2, 2, 2}, {1, 2, 1, 3, 1, 2}, {2, 1, 2, 1, 1, 2, 2},
                 {1, 2, 1, 2, 1, 2, 1, 3}, {2, 3, 4}, {3, 1, 1, 1, 1}}
  for _, dims in ipairs(cases) do
    local s = tostring(nn.arange(numel(dims)):reshape(dims))
    -- independent of numpy: every value once, in order; brackets balanced
    local vals = {}
    for v in s:gmatch("%d+") do vals[#vals + 1] = tonumber(v) end
    check(#vals == numel(dims), "every value shown")
    for i = 1, #vals do check(vals[i] == i - 1, "in order") end
    local opens = select(2, s:gsub("%[", ""))
    check(opens == select(2, s:gsub("%]", "")) and s:sub(1, 7 + #dims) ==
          "tensor(" .. string.rep("[", #dims), s)
    if HAVE_NUMPY then
      local want = numpy_text(dims)
      check(s == want, "tostring of " .. H.show(dims) .. ":\n" .. s .. "\nnumpy:\n" .. want)
    end
  end
  -- large: the first and last 3 of each long dimension, "...", the shape
  local big = nn.arange(2 * 2 * 2 * 2 * 50):reshape(2, 2, 2, 2, 50)
  local s = tostring(big)
  check(s:find(", shape=[2x2x2x2x50])", 1, true), s)
  check(s:find("[  0,   1,   2, ...,  47,  48,  49]", 1, true), s)
  check(s:find("[750, 751, 752, ..., 797, 798, 799]", 1, true), s)
  check(not s:find("  3,", 1, true), "hidden values are not shown")
  local tall = tostring(nn.zeros(10, 1, 1, 1, 1, 1, 1, 20))
  check(tall:find("...", 1, true) and tall:find("shape=[10x1x1x1x1x1x1x20]", 1, true), tall)
  if HAVE_NUMPY then
    -- numpy elides the same items (its threshold set to ours, 100)
    local want = numpy_text({2, 2, 2, 2, 50})
    check(s == want .. "" or s:gsub(", shape=%[[%dx]+%]%)$", ")") == want,
          "elided tostring:\n" .. s .. "\nnumpy:\n" .. want)
  end
end)

local function tmp() return os.tmpname() end

T("save_tensors / load_tensors: round trip, names, metadata, overwrite", function()
  nn.seed(9)
  local path = tmp()
  local w, b = nn.randn(3, 4), nn.tensor{1.5, -2, 1 / 0}
  local e, s8 = nn.zeros(0, 3), nn.rand(1, 2, 1, 2, 1, 2, 1, 2)
  local r = nn.save_tensors(path, {["layer.0.weight"] = w, bias = b, empty = e, ["ü x"] = s8},
                            {framework = "nnlua", note = ""})
  check(r == nil, "nothing returned")
  local got, meta = nn.load_tensors(path)
  local names = {}
  for k in pairs(got) do names[#names + 1] = k end
  table.sort(names)
  check(H.eq_table(table.concat(names, "|"), "bias|empty|layer.0.weight|ü x"), table.concat(names, "|"))
  check(H.eq_table(got["layer.0.weight"], w), "bit-identical")
  check(H.eq_table(got.bias, b))
  shape(got.empty, 0, 3)
  shape(got["ü x"], 1, 2, 1, 2, 1, 2, 1, 2)
  check(H.eq_table(got["ü x"], s8))
  check(meta.framework == "nnlua" and meta.note == "", "metadata back")
  got.bias[1] = 99 -- the loaded tensors are the caller's own
  check(b[1] == 1.5)
  -- saving again replaces the file; no metadata gives an empty table
  nn.save_tensors(path, {only = nn.ones(2)})
  local again, m2 = nn.load_tensors(path)
  check(next(m2) == nil, "no metadata")
  check(again.only and again.bias == nil, "the old tensors are gone")
  -- an empty table is a valid file
  nn.save_tensors(path, {})
  local none = nn.load_tensors(path)
  check(next(none) == nil)
  os.remove(path)
end)

T("save_tensors / load_tensors: errors name the function, file and tensor", function()
  local path = tmp()
  local t = nn.ones(2)
  checkerr("nn.save_tensors: path must be a string, got nil", nn.save_tensors, nil, {})
  checkerr("nn.save_tensors: the tensors must be a table of name = nn.Tensor, got no value",
           nn.save_tensors, path)
  checkerr("nn.save_tensors: tensor keys must be strings, got the number key 1",
           nn.save_tensors, path, {t})
  checkerr("nn.save_tensors: 'a' is number, not an nn.Tensor", nn.save_tensors, path, {a = 1})
  local c = nn.ones(2)
  c:close()
  checkerr("nn.save_tensors: 'a' is a closed nn.Tensor", nn.save_tensors, path, {a = c})
  checkerr("nn.save_tensors: the name '__metadata__' is the format's own",
           nn.save_tensors, path, {__metadata__ = t})
  checkerr("nn.save_tensors: the metadata must be a table of strings, got number",
           nn.save_tensors, path, {a = t}, 5)
  checkerr("nn.save_tensors: metadata 'k' must be a string, got number",
           nn.save_tensors, path, {a = t}, {k = 1})
  checkerr("nn.save_tensors: metadata keys must be strings", nn.save_tensors, path, {a = t},
           {"x"})
  checkerr("nn.save_tensors: tensor key 'a", nn.save_tensors, path, {["a\0b"] = t})
  checkerr("nn.save_tensors: cannot create", nn.save_tensors, "/nonexistent/dir/x.st", {a = t})
  checkerr("nn.load_tensors: path must be a string", nn.load_tensors, 3)
  checkerr("nn.load_tensors: cannot open '/nonexistent/x.st'", nn.load_tensors,
           "/nonexistent/x.st")
  -- malformed files: the message names the file and the tensor
  local f = assert(io.open(path, "wb"))
  local hdr = '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}'
  f:write(string.pack("<I8", #hdr), hdr, string.rep("\0", 16))
  f:close()
  checkerr("nn.load_tensors: '" .. path .. "': tensor 'w': shape [2, 2] needs 16 bytes as F32 " ..
           "but data_offsets [0, 8] hold 8", nn.load_tensors, path)
  f = assert(io.open(path, "wb"))
  f:write("not a safetensors file at all")
  f:close()
  checkerr("nn.load_tensors: '" .. path .. "': header length", nn.load_tensors, path)
  f = assert(io.open(path, "wb"))
  hdr = '{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'
  f:write(string.pack("<I8", #hdr), hdr, string.rep("\0", 8))
  f:close()
  checkerr("tensor 'w' has dtype C64; nnlua reads F32, F64, F16, BF16", nn.load_tensors, path)
  os.remove(path)
end)

T("numpy reads a saved file by parsing its header by hand", function()
  if not HAVE_NUMPY then
    print("SKIP: numpy reading a saved file (" .. PY .. " with numpy is missing)")
    return
  end
  local path = tmp()
  nn.save_tensors(path, {a = nn.arange(12):reshape(3, 4) / 8,
                         ["b.c"] = nn.tensor{-1.25, 1 / 0, 3e38},
                         d = nn.arange(16):reshape(2, 1, 2, 1, 2, 1, 2, 1)},
                  {made_by = "nnlua"})
  local out, ok = py_run([[
import json, struct, sys
import numpy as np
raw = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, n
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
assert header.pop("__metadata__") == {"made_by": "nnlua"}
assert sorted(header) == ["a", "b.c", "d"], sorted(header)
end = 0
for name in sorted(header, key=lambda k: header[k]["data_offsets"][0]):
    e = header[name]
    assert e["dtype"] == "F32"
    b, en = e["data_offsets"]
    assert b == end, (name, b, end)
    end = en
    header[name] = np.frombuffer(data[b:en], dtype="<f4").reshape(e["shape"])
assert end == len(data)
assert np.array_equal(header["a"], np.arange(12, dtype=np.float32).reshape(3, 4) / 8)
assert np.array_equal(header["b.c"], np.array([-1.25, np.inf, 3e38], dtype=np.float32))
assert header["d"].shape == (2, 1, 2, 1, 2, 1, 2, 1)
assert np.array_equal(header["d"].ravel(), np.arange(16, dtype=np.float32))
print("numpy ok")
]], path)
  check(ok and out:find("numpy ok", 1, true), out)
  -- PyTorch reads the same bytes (torch.frombuffer) when it is installed
  if py_has("torch") then
    out, ok = py_run([[
import json, struct, sys, torch
raw = bytearray(open(sys.argv[1], "rb").read())
(n,) = struct.unpack("<Q", raw[:8])
h = json.loads(bytes(raw[8:8 + n]))
b, e = h["a"]["data_offsets"]
t = torch.frombuffer(raw[8 + n + b:8 + n + e], dtype=torch.float32).reshape(h["a"]["shape"])
assert torch.equal(t, torch.arange(12, dtype=torch.float32).reshape(3, 4) / 8)
print("torch ok")
]], path)
    check(ok and out:find("torch ok", 1, true), out)
  else
    print("SKIP: PyTorch is missing for " .. PY)
  end
  os.remove(path)
end)

T("a file numpy wrote, in every dtype, loads with the values converted", function()
  if not HAVE_NUMPY then
    print("SKIP: reading a file numpy wrote (" .. PY .. " with numpy is missing)")
    return
  end
  local path = tmp()
  local out, ok = py_run([==[
import json, struct, sys
import numpy as np
arrays = {
    "f32": ("F32", np.array([[1.5, -2.0], [0.1, 3e38]], dtype="<f4")),
    "f64": ("F64", np.array([0.1, -1e300, 2.5], dtype="<f8")),
    "f16": ("F16", np.array([1.0, -2.0, 65504.0, 2.0 ** -24, np.inf], dtype="<f2")),
    "bf16": ("BF16", (np.array([1.0, -3.0, 0.15625], dtype="<f4").view("<u4") >> 16).astype("<u2")),
    "i64": ("I64", np.array([-5, 2 ** 40, 16777217], dtype="<i8")),
    "i32": ("I32", np.array([-2147483648, 7], dtype="<i4")),
    "i16": ("I16", np.array([-32768, 32767], dtype="<i2")),
    "i8": ("I8", np.array([-128, 127], dtype="i1")),
    "u8": ("U8", np.arange(24, dtype="u1").reshape(2, 3, 4)),
    "bool": ("BOOL", np.array([True, False, True])),
    "scalar": ("F32", np.array(4.25, dtype="<f4")),
}
header, blob = {"__metadata__": {"format": "np"}}, b""
for name, (dt, a) in arrays.items():
    b = a.tobytes()
    header[name] = {"dtype": dt, "shape": list(a.shape),
                    "data_offsets": [len(blob), len(blob) + len(b)]}
    blob += b
h = json.dumps(header).encode()
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + blob)
print("written")
]==], path)
  check(ok and out:find("written", 1, true), out)
  local t, meta = nn.load_tensors(path)
  check(meta.format == "np")
  same(t.f32, {{1.5, -2}, {f32(0.1), f32(3e38)}})
  same(t.f64, {f32(0.1), -1 / 0, 2.5})
  same(t.f16, {1, -2, 65504, 2 ^ -24, 1 / 0})
  same(t.bf16, {1, -3, 0.15625})
  same(t.i64, {-5, 2 ^ 40, 16777216}) -- 2^24 + 1 rounds to a float
  same(t.i32, {-2147483648, 7})
  same(t.i16, {-32768, 32767})
  same(t.i8, {-128, 127})
  shape(t.u8, 2, 3, 4)
  check(H.eq_table(t.u8, nn.arange(24):reshape(2, 3, 4)))
  same(t.bool, {1, 0, 1})
  same(t.scalar, {4.25}) -- a 0-dimensional tensor comes back as [1]
  os.remove(path)
  if py_has("safetensors") and py_has("torch") then
    print("note: the safetensors package is installed; PyTorch writing is not tested here")
  else
    print("SKIP: PyTorch cannot write safetensors here (no safetensors package)")
  end
end)

H.done()
