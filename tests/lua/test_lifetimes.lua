-- What C holds across a call into Lua stays valid, and every handle is
-- safe after its owner is gone: tensors closed by a fit callback, a map
-- function, a finalizer or a metamethod while C code reads them; a layer
-- whose model was freed by hand; a first layer whose build fails; fit's
-- cleanup when a callback table raises; memory of dropped handles. Under
-- AddressSanitizer each of these was a use-after-free, a double free or a
-- leak before (issue 11).
package.path = "./?.lua;" .. package.path
local H = require "helper"
local T, check, checkerr = H.test, H.check, H.checkerr

local function small_model()
  local m = nn.Sequential{nn.Dense(4, {input_dim = 3, activation = "relu"}), nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "sgd"}
  return m
end

T("a callback that closes the training data: fit goes on with it", function()
  nn.seed(1)
  local m = small_model()
  local x, y = nn.rand(64, 3), nn.rand(64, 1)
  local vx, vy = nn.rand(8, 3), nn.rand(8, 1)
  local h = m:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0,
                         validation_data = {vx, vy},
                         callbacks = {{on_batch_end = function(b)
                           if b == 2 then x:close(); y:close(); vx:close(); vy:close()
                                          collectgarbage(); collectgarbage() end
                         end}}})
  check(#h.history.loss == 3 and #h.history.val_loss == 3)
  for e = 1, 3 do check(h.history.loss[e] == h.history.loss[e]) end
  checkerr("tensor is closed", x.numel, x)
  checkerr("tensor is closed", vy.numel, vy)
end)

T("a map function that closes the tensor or the output", function()
  local t = nn.ones(50)
  checkerr("map: the tensor was closed by the function", t.map, t, function(v)
    t:close(); return v end)
  -- With the debug library the function can reach map's output (a
  -- temporary of map's C frame) and close it: map keeps writing into
  -- memory that stays valid, and returns the closed handle.
  local s = nn.ones(50)
  local r = s:map(function(v)
    local _, out = debug.getlocal(2, 3)
    if type(out) == "userdata" then out:close() end
    return v * 2
  end)
  checkerr("tensor is closed", r.numel, r)
  check(s:sum() == 50)
end)

T("finalizers that close the arguments of a running operation", function()
  local m = small_model()
  local ops = {
    function(x) return x + 1 end,
    function(x) return x * x end,
    function(x) return x:sum() end,
    function(x) return x:reshape(30, 1) end,
    function(x) return x[2] end,
    function(x) return nn.cat({x, x}, 1) end,
    function(x) return m:predict(x) end,
    function(x) return tostring(x) end,
  }
  -- The finalizers run at some allocation after the collector reaches
  -- them: often one inside op (a new handle, a table of results).
  local closed = 0
  for _, op in ipairs(ops) do
    for _ = 1, 10 do
      local x = nn.rand(10, 3)
      for _ = 1, 5 do setmetatable({}, {__gc = function() x:close() end}) end
      local n = 0
      while pcall(function() return x:numel() end) and n < 20000 do pcall(op, x); n = n + 1 end
      closed = closed + (n < 20000 and 1 or 0)
    end
  end
  collectgarbage()
  check(closed > 40, "the finalizers ran " .. closed .. " times")
end)

T("an options metamethod that closes the data of the call", function()
  local m = small_model()
  local x, y = nn.rand(10, 3), nn.rand(10, 1)
  local evil = setmetatable({}, {__index = function() x:close(); y:close() end})
  pcall(m.predict, m, x, evil)
  x, y = nn.rand(10, 3), nn.rand(10, 1)
  pcall(m.evaluate, m, x, y, evil)
  x, y = nn.rand(10, 3), nn.rand(10, 1)
  local ok, e = pcall(m.fit, m, x, y, setmetatable({}, {__index = function(_, k)
    x:close(); y:close(); return nil end}))
  check(not ok and tostring(e):find("tensor is closed", 1, true), tostring(e))
  check(not m:fit(nn.rand(10, 3), nn.rand(10, 1), {verbose = 0}).interrupted)
end)

T("option strings that only an __index gives are copied before Lua runs again", function()
  local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  local opts = setmetatable({}, {__index = function(_, k)
    if k == "loss" then return "mean_absolute" .. "_error" end -- anchored by nothing
    if k == "metrics" then collectgarbage(); collectgarbage(); return {"m" .. "ae"} end
  end})
  m:compile(opts)
  check(m.loss == "mean_absolute_error", tostring(m.loss))
  check(m.compiled)
end)

T("a first layer whose build fails is freed once; the model stays empty", function()
  checkerr("input_shape' must be an integer in 1..2147483647, got -1", function()
    return nn.Sequential{nn.Dense(3, {input_shape = -1})} end)
  collectgarbage(); collectgarbage()
  local m = nn.Sequential()
  local big = nn.Dense(1e9, {input_dim = 1e9})
  checkerr("add:", m.add, m, big)
  check(#m.layers == 0 and m:count_params() == 0 and not m.built)
  check(tostring(m):find("0 layers", 1, true))
  -- the refused layer is still the caller's, and can go into another model
  check(not big.built)
  local ok = pcall(nn.Sequential, {big})
  check(not ok)
  big = nil
  collectgarbage(); collectgarbage()
  m:add(nn.Dense(2, {input_dim = 3}))
  check(#m.layers == 1 and m.built and m:count_params() == 8)
  -- a declared sample that could never be allocated, whose size would
  -- overflow in a Flatten's output
  checkerr("is too large", function()
    return nn.Flatten{input_shape = {2^31 - 1, 2^31 - 1, 2^31 - 1}} end)
end)

T("fit on data it refuses does not build the model for that data", function()
  local m = nn.Sequential{nn.Dense(2), nn.Dense(1)}
  m:compile{loss = "mse", optimizer = "sgd"}
  checkerr("fit:", m.fit, m, nn.rand(10, 5), nn.rand(9, 1), {verbose = 0})
  check(not m.built)
  checkerr("evaluate:", m.evaluate, m, nn.rand(10, 5), nn.rand(9, 1))
  check(not m.built)
  m:fit(nn.rand(10, 3), nn.rand(10, 1), {verbose = 0})
  check(m.built and m.input_shape[1] == 3)
end)

T("zero rows: evaluate and validation_data refuse them", function()
  local m = small_model()
  checkerr("evaluate: x has no samples", m.evaluate, m, nn.zeros(0, 3), nn.zeros(0, 1))
  checkerr("fit: validation_data has no samples", m.fit, m, nn.rand(8, 3), nn.rand(8, 1),
           {verbose = 0, validation_data = {nn.zeros(0, 3), nn.zeros(0, 1)}})
end)

T("metatables are protected; handles are safe after their owner is freed", function()
  local m = small_model()
  local l = m.layers[1]
  check(getmetatable(m).__name == "nn.Model" and getmetatable(m).__gc == nil)
  check(getmetatable(l).__name == "nn.Layer" and getmetatable(l).__gc == nil)
  check(getmetatable(nn.ones(1)).__index == nil)
  -- by hand, with the debug library
  debug.getmetatable(m).__gc(m)
  checkerr("its model was freed", nn.get_weights, l)
  checkerr("its model was freed", function() return l.units end)
  checkerr("its model was freed", tostring, l)
  local m2 = nn.Sequential()
  checkerr("a closed layer", m2.add, m2, l)
  checkerr("model is closed", function() return m:fit(nn.rand(4, 3), nn.rand(4, 1)) end)
  checkerr("model is closed", nn.predict, m, nn.rand(4, 3))
  check(tostring(m) == "nn.Sequential (closed)")
  debug.getmetatable(m).__gc(m) -- twice: nothing
  debug.getmetatable(l).__gc(l)
  collectgarbage(); collectgarbage()
end)

T("a model freed by hand inside its own fit: fit finishes, then it is closed", function()
  local m = small_model()
  local h = m:fit(nn.rand(16, 3), nn.rand(16, 1), {epochs = 2, batch_size = 4, verbose = 0,
    callbacks = {{on_batch_end = function() debug.getmetatable(m).__gc(m) end}}})
  check(#h.history.loss == 2)
  checkerr("model is closed", nn.predict, m, nn.rand(2, 3))
end)

-- The PID of this nnlua (the shell of os.execute is its child).
local function my_pid()
  local f = io.open("/proc/self/stat")
  if not f then return nil end
  local pid = f:read("n")
  f:close()
  return pid
end

T("a callback table whose lookups raise: fit's cleanup still runs", function()
  local m = small_model()
  local x, y = nn.rand(16, 3), nn.rand(16, 1)
  local evil = setmetatable({}, {__index = function(_, k)
    if k == "on_epoch_end" then error("boom in " .. k) end end})
  checkerr("boom in on_epoch_end", m.fit, m, x, y, {verbose = 0, callbacks = {evil}})
  -- an entry replaced by a number during training
  local cbs
  cbs = {{on_epoch_end = function() cbs[1] = 5 end}}
  checkerr("attempt to index a number value", m.fit, m, x, y,
           {epochs = 3, verbose = 0, callbacks = cbs})
  -- nothing is left "running"
  check(#m:fit(x, y, {epochs = 1, verbose = 0}).history.loss == 1)
  m:compile{loss = "mse", optimizer = "adam"}
  m:add(nn.Dense(1))
  -- and the SIGINT handler is the program's again: Ctrl-C interrupts Lua
  -- code ("interrupted!") instead of being swallowed by fit's handler
  local pid = my_pid()
  if pid and os.execute("true") then
    local ok, e = pcall(function()
      -- in the background: system() ignores SIGINT while it waits
      os.execute("(sleep 0.2; kill -INT " .. pid .. ") &")
      local t = nn.clock()
      while nn.clock() - t < 5 do end
    end)
    check(not ok and tostring(e):find("interrupted", 1, true), tostring(e))
  end
end)

-- Peak resident size of this process, in kB.
local function hwm_kb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s*(%d+)")
    if kb then return tonumber(kb) end
  end
end

local function under_asan()
  for line in io.lines("/proc/self/maps") do
    if line:find("libasan", 1, true) then return true end
  end
  return false
end

-- Every allocation a handle keeps alive paces the collector, not only
-- tensor data: 2e6 dropped views reached 240 MB and 2e6 nn.zeros(1)
-- 650 MB before; a few MB now. (AddressSanitizer keeps up to 256 MB of
-- freed memory in quarantine, and Lua's own blocks too, so RSS says
-- nothing there: the case runs in the normal build only.)
T("dropped views and small tensors are collected at the pace they are made", function()
  if not io.open("/proc/self/status") or under_asan() then return end
  local limit = 40
  local t = nn.zeros(4, 4)
  for _, make in ipairs{function() return t[1] end,
                        function() return t:reshape(16) end,
                        function() return nn.zeros(1) end} do
    collectgarbage()
    local before = hwm_kb()
    for _ = 1, 2e6 do local v = make() end
    local grown = (hwm_kb() - before) / 1024
    check(grown < limit, string.format("peak grew by %.0f MB for 2e6 dropped handles", grown))
  end
end)

H.done()
