-- The runtime part of nn: the global and require, nn.version, nn.seed,
-- nn.threads (results independent of the count), nn.cpu, and the
-- NNLUA_ISA / NNLUA_THREADS variables seen by a fresh nnlua.
local H = require "helper"
local T = H.test
local check, checkerr, checkargerr, same = H.check, H.checkerr, H.checkargerr, H.same

-- One table: the global and what require returns.
T("one table: the global nn, require 'nn', nn.version", function()
  check(type(nn) == "table")
  check(rawequal(require "nn", nn))
  check(type(nn.version) == "string" and nn.version:match("^%d+%.%d+%.%d+$"), nn.version)
end)

-- seed: any integer; the same seed gives the same stream.
T("seed: any integer; the same seed gives the same stream", function()
  for _, s in ipairs{0, 1, -1, math.maxinteger, math.mininteger, 123456789} do
    nn.seed(s)
    local a = nn.rand(8):totable()
    nn.seed(s)
    same(nn.rand(8), a)
  end
  nn.seed(1)
  local one = nn.rand(4):totable()
  nn.seed(2)
  check(not H.eq(nn.rand(4):totable(), one))
  checkargerr(1, "number expected, got string", nn.seed, "x")
  checkargerr(1, "number has no integer representation", nn.seed, 1.5)
  checkargerr(1, "number expected, got no value", nn.seed)
end)

-- Dead tensors are collected as fast as new ones are made: the collector
-- is paced by tensor memory, not only by the small handles Lua sees. 1 GB
-- of 1 MB tensors made and dropped must not raise the peak resident size
-- by more than part of that: it grew by the whole 1 GB before, and grows
-- by a few MB now (about 290 MB under AddressSanitizer, which holds up to
-- 256 MB of freed memory in quarantine).
T("garbage tensors are collected at the pace they are made", function()
  local f = io.open("/proc/self/status")
  if not f then return end -- not Linux: nothing to read
  f:close()
  local function hwm_kb()
    for line in io.lines("/proc/self/status") do
      local kb = line:match("^VmHWM:%s*(%d+)")
      if kb then return tonumber(kb) end
    end
  end
  collectgarbage()
  local before = hwm_kb()
  for _ = 1, 1000 do
    local t = nn.zeros(256, 1024) -- 1 MB, pages touched
    t = nil
  end
  local grown_mb = (hwm_kb() - before) / 1024
  check(grown_mb < 450, string.format("peak grew by %.0f MB for 1000 MB of garbage", grown_mb))
end)

-- threads: get, set, and results that do not depend on the count.
T("threads: get, set, and results that do not depend on the count", function()
  local n0 = nn.threads()
  check(math.type(n0) == "integer" and n0 >= 1)
  check(nn.cpu().threads == n0)
  nn.seed(11)
  local a, b = nn.randn(150, 70), nn.randn(70, 90)
  local big = nn.matmul(a, b):totable()
  check(nn.threads(1) == 1 and nn.threads() == 1)
  check(nn.cpu().threads == 1)
  same(nn.matmul(a, b), big)
  check(nn.threads(3) == 3)
  same(nn.matmul(a, b), big)
  check(nn.threads(n0) == n0)
  checkerr("nn.threads: count must be an integer in 1..256, got 0", nn.threads, 0)
  checkerr("nn.threads: count must be an integer in 1..256, got 100000", nn.threads, 100000)
  checkerr("nn.threads: count must be an integer in 1..256, got 1000000000.0", nn.threads, 1e9)
  checkerr("nn.threads: count must be an integer in 1..256, got -5", nn.threads, -5)
  checkerr("nn.threads: count must be an integer in 1..256, got 1.5", nn.threads, 1.5)
  checkerr("nn.threads: count must be an integer in 1..256, got the string \"x\"",
           nn.threads, "x")
  check(nn.threads() == n0, "a refused count changes nothing")
end)

-- cpu: the active and best levels and the supported list.
local order = {scalar = 1, sse2 = 2, avx2 = 3, avx512 = 4}
T("cpu: the active and best levels and the supported list", function()
  local c = nn.cpu()
  check(order[c.isa] and order[c.best], "unknown level")
  check(order[c.isa] <= order[c.best])
  check(type(c.supported) == "table" and c.supported[1] == "scalar")
  check(#c.supported == order[c.best] and c.supported[#c.supported] == c.best)
  check(nn.cpu() ~= c, "a fresh table each call")
end)

-- A fresh program under NNLUA_ISA / NNLUA_THREADS.
T("NNLUA_ISA / NNLUA_THREADS in a fresh nnlua", function()
  local bin = os.getenv("NNLUA_BIN")
  if bin then
    local function run(env, code)
      local p = io.popen(env .. " '" .. bin .. "' -e '" .. code .. "' 2>&1")
      local out = p:read("a")
      local ok = p:close()
      return ok, out
    end
    local ok, out = run("NNLUA_ISA=scalar", "io.write(nn.cpu().isa)")
    check(ok and out == "scalar", out)
    local best = nn.cpu().best
    ok, out = run("NNLUA_ISA=" .. best, "io.write(nn.cpu().isa)")
    check(ok and out == best, out)
    ok, out = run("NNLUA_ISA=bogus", "print(1)")
    check(not ok and out:find("bogus", 1, true) and not out:find("^1"), out)
    ok, out = run("NNLUA_THREADS=1", "io.write(nn.threads())")
    check(ok and out == "1", out)
    -- the same product under the scalar kernels, within rounding
    ok, out = run("NNLUA_ISA=scalar",
      "nn.seed(4); local a = nn.randn(9, 13); io.write(string.format(\"%.5f\", nn.matmul(a, a:reshape(13, 9)):sum()))")
    check(ok, out)
    nn.seed(4)
    local a = nn.randn(9, 13)
    H.near(tonumber(out), nn.matmul(a, a:reshape(13, 9)):sum(), 1e-3, "scalar vs active ISA")
  else
    print("test_runtime: NNLUA_BIN not set, environment checks skipped")
  end
end)

-- nn.help prints an entry found by value or by name, a topic, or the list
-- of topics; it returns nothing.
T("nn.help by value, by name, topics", function()
  local out
  local function help(...)
    local saved = print
    local lines = {}
    print = function(...) lines[#lines + 1] = table.concat({...}, "\t") end
    local ok, n = pcall(function(...) return select("#", nn.help(...)) end, ...)
    print = saved
    check(ok, n)
    check(n == 0, "nn.help returns nothing")
    out = table.concat(lines, "\n")
    return out
  end
  local topics = help()
  for _, t in ipairs{"tensors", "runtime", "data", "models", "layers", "training", "plots"} do
    check(topics:find("\n  " .. t .. " ", 1, true), "topic " .. t .. " missing:\n" .. topics)
  end
  check(help(nn) == topics)
  local z = help(nn.zeros)
  check(z:find("^nn%.zeros%(d1, %.%.%.%)") and z:find("zeros of the given shape", 1, true), z)
  check(help("zeros") == z and help("nn.zeros") == z)
  local t = nn.ones(2)
  local s = help(t.sum)
  check(s:find("^t:sum%(%[dim %[, keepdim%]%]%)"), s)
  check(help("t:sum") == s and help("Tensor.sum") == s and help("sum") == s)
  check(help(t.argmax):find("1-based", 1, true))
  check(help(nn.matmul):find("m x k", 1, true))
  local tensors = help("tensors")
  check(tensors:find("^tensors: ") and tensors:find("\n  t:reshape(d1, ...)", 1, true), tensors)
  check(help(t) == tensors, "a tensor value gives the tensors topic")
  -- every nn.Tensor method and tensor constructor has an entry
  for name in pairs(nn.Tensor) do
    check(not help(name):find("^no help"), "no help for t:" .. name)
  end
  for _, name in ipairs{"tensor", "zeros", "ones", "full", "rand", "randn", "arange", "linspace",
                        "eye", "matmul", "cat", "seed", "threads", "cpu", "version", "help"} do
    check(help("nn." .. name):find("^nn%." .. name), "no help for nn." .. name)
  end
  if nn.data then check(help(nn.data.csv):find("^nn%.data%.csv%("), out) end
  -- every public function of nn and its tables has an entry, found by value
  -- too (nn.set_weights is model:set_weights; names starting with _ are
  -- internal)
  for _, place in ipairs{{nn, "nn."}, {nn.plot, "nn.plot."}, {nn.data, "nn.data."},
                         {nn.callbacks, "nn.callbacks."}, {nn.optimizers, "nn.optimizers."}} do
    for name, v in pairs(place[1]) do
      if type(v) == "function" and not name:find("^_") then
        local text = help(v)
        check(not text:find("^no help"), "no help for " .. place[2] .. name .. ": " .. text)
      end
    end
  end
  check(help(nn.plot.scatter):find("^nn%.plot%.scatter%(x, y, opts%)"), out)
  check(help(nn.plot.decision_boundary):find("resolution (300", 1, true), out)
  check(help(nn.set_weights):find("^model:set_weights"), out)
  check(help("nosuch") == "no help for 'nosuch'; nn.help() lists the topics", out)
  check(help(print):find("^no help for this function"), out)
  check(help(42):find("^no help for number values"), out)
end)

H.done()
