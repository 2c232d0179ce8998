-- LivePlot (nn.callbacks.LivePlot) with a gnuplot that misbehaves: fake
-- gnuplot programs ($NNLUA_GNUPLOT, shell scripts) that exit 0 without
-- writing the plot's file, die by a signal in the middle of training,
-- hang, or leave a grandchild holding their stderr. Each case runs in a
-- child nnlua ($NNLUA_BIN) with NNLUA_GNUPLOT_TIMEOUT=1: training always
-- finishes, wait() and the end of the program are bounded, errors say
-- what happened (never a false success), and no child process is left
-- (the kernel's list of the process's children is empty).
local H = dofile("helper.lua")
local check = H.check

local bin = os.getenv("NNLUA_BIN")
if not bin then
  print("test_plot_live: skipped (NNLUA_BIN not set)")
  return
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir '" .. dir .. "'"))

-- Writes the fake gnuplot `name` (a shell script) and returns its path.
local function fake(name, body)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write("#!/bin/sh\n", body, "\n")
  f:close()
  assert(os.execute("chmod +x '" .. path .. "'"))
  return path
end

-- Reads all of the file at path (nil when missing).
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The child's prelude: a small model, and children() counting the child
-- processes of this process (its threads are joined when it is called).
local prelude = [[
local dir = ...
nn.seed(1)
local m = nn.Sequential({nn.Dense(1, {input_dim = 1})})
m:compile{loss = 'mse', optimizer = 'sgd'}
local x, y = nn.tensor({{1}, {2}, {3}}), nn.tensor({{2}, {4}, {6}})
local function children()
  local pid = io.open('/proc/self/stat'):read('n')
  local f = io.open('/proc/' .. pid .. '/task/' .. pid .. '/children')
  if not f then return 0 end
  local n = 0
  for _ in f:read('a'):gmatch('%d+') do n = n + 1 end
  f:close()
  return n
end
]]

-- Runs body (after the prelude) in a child nnlua with gnuplot = fake;
-- returns its output (stdout and stderr) and the seconds it took.
local function run(gnuplot, body)
  local script = dir .. "/case.lua"
  local f = assert(io.open(script, "w"))
  f:write(prelude, body, "\n")
  f:close()
  local cmd = "cd '" .. dir .. "' && s=$(date +%s%N); NNLUA_GNUPLOT='" .. gnuplot ..
              "' NNLUA_GNUPLOT_TIMEOUT=1 '" .. bin .. "' '" .. script .. "' '" .. dir ..
              "' 2>&1; echo \"status=$?\"; e=$(date +%s%N); echo \"ms=$(( (e - s) / 1000000 ))\""
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  local ms = tonumber(out:match("ms=(%d+)"))
  return out, ms / 1000
end

-- 1 while the process pid exists and is not a zombie.
local function alive(pid)
  local s = slurp("/proc/" .. pid .. "/stat")
  if not s then return false end
  local state = s:match("%) (%a)")
  return state ~= "Z" and state ~= "X"
end

local fit_and_wait = [[
local lp = nn.callbacks.LivePlot{file = dir .. '/live.png', interval = INTERVAL}
local h = m:fit(x, y, {epochs = 20, verbose = 0, callbacks = {lp}})
print('epochs ' .. #h.history.loss)
local ok, err = lp.wait()
print('wait ' .. tostring(ok) .. ' ' .. tostring(err))
print('children ' .. children())
]]

H.test("a gnuplot that exits 0 without writing the file is no success", function()
  local gp = fake("silent", "cat >/dev/null\nexit 0")
  -- gnuplot kept for the whole fit (a frame per epoch), and the short fit
  -- whose only frame is drawn at its end by a new gnuplot.
  for _, interval in ipairs({"0", "100"}) do
    os.remove(dir .. "/live.png")
    local out, s = run(gp, (fit_and_wait:gsub("INTERVAL", interval)))
    check(out:find("epochs 20", 1, true), out)
    check(out:find("wait false", 1, true), "interval " .. interval .. ": " .. out)
    check(out:find("did not create '" .. dir .. "/live.png'", 1, true), out)
    check(out:find("children 0", 1, true), out)
    check(s < 5, "took " .. s .. " s")
  end
  -- An older file there does not count either.
  local f = assert(io.open(dir .. "/live.png", "w"))
  f:write("an old plot")
  f:close()
  local out = run(gp, (fit_and_wait:gsub("INTERVAL", "0")))
  check(out:find("wait false", 1, true) and out:find("did not write", 1, true), out)
  os.remove(dir .. "/live.png")
end)

H.test("gnuplot killed in the middle of training", function()
  local gp = fake("dies", "head -c 200 >/dev/null\nkill -9 $$")
  local out, s = run(gp, [[
local lp = nn.callbacks.LivePlot{file = dir .. '/live.png', interval = 0}
-- Slow epochs (20 ms), so gnuplot dies while training still runs.
local slow = {on_epoch_end = function()
  local t = os.clock()
  while os.clock() - t < 0.02 do end
end}
local h = m:fit(x, y, {epochs = 30, verbose = 0, callbacks = {lp, slow}})
print('epochs ' .. #h.history.loss)
print('children ' .. children())
print('wait ' .. tostring(lp.wait()))
]])
  check(out:find("epochs 30", 1, true), "training went on: " .. out)
  check(out:find("LivePlot: gnuplot was killed by signal 9 (SIGKILL) (training goes on without it)",
                 1, true), out)
  local _, warnings = out:gsub("LivePlot:", "")
  check(warnings == 1, "one warning: " .. out)
  check(out:find("children 0", 1, true), "no zombie: " .. out)
  check(out:find("status=0", 1, true), "not killed by SIGPIPE: " .. out)
  check(s < 5, "took " .. s .. " s")
end)

H.test("a hung gnuplot: wait() and the end of the program are bounded", function()
  local gp = fake("hangs", "echo $$ > '" .. dir .. "/hung.pid'\ntrap '' TERM\nexec sleep 1000")
  local out, s = run(gp, (fit_and_wait:gsub("INTERVAL", "0")))
  check(out:find("epochs 20", 1, true), out)
  check(out:find("wait false", 1, true) and out:find("did not finish within 1 s", 1, true), out)
  check(out:find("children 0", 1, true), out)
  check(s < 6, "took " .. s .. " s")
  local pid = slurp(dir .. "/hung.pid"):match("%d+")
  check(not alive(pid), "the hung gnuplot was killed")
  -- Without wait(): the program's end waits for it, within the deadline.
  os.remove(dir .. "/hung.pid")
  out, s = run(gp, [[
local lp = nn.callbacks.LivePlot{file = dir .. '/live.png', interval = 0}
m:fit(x, y, {epochs = 5, verbose = 0, callbacks = {lp}})
print('fit done')
]])
  check(out:find("fit done", 1, true), out)
  check(out:find("did not finish within 1 s", 1, true), "said at exit: " .. out)
  check(s < 6, "the end of the program took " .. s .. " s")
  pid = slurp(dir .. "/hung.pid"):match("%d+")
  check(not alive(pid), "the hung gnuplot was killed at exit")
end)

H.test("a grandchild holding gnuplot's stderr delays nothing", function()
  local gp = fake("grandchild", [[
sleep 30 &
echo $! > ']] .. dir .. [[/grandchild.pid'
out=$(sed -n "s/^set output '\(.*\)'$/\1/p" | tail -n 1)
printf '\211PNG\r\n\032\n\0\0\0\0IEND\256B`\202' > "$out"
exit 0]])
  local out, s = run(gp, (fit_and_wait:gsub("INTERVAL", "0")))
  check(out:find("wait true", 1, true), out)
  check(out:find("children 0", 1, true), out)
  check(s < 3, "took " .. s .. " s")
  local pid = slurp(dir .. "/grandchild.pid"):match("%d+")
  os.execute("kill " .. pid .. " 2>/dev/null")
end)

os.execute("rm -rf '" .. dir .. "'")
H.done()
