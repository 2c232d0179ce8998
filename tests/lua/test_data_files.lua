-- Paths and files that are not what they seem, from Lua: a path with an
-- embedded NUL is refused by every function that takes one (C would cut
-- it and use another file); FIFOs never block nn.load, nn.data.csv,
-- nn.data.idx or CSVLogger (run in a child nnlua under `timeout`, so a
-- regression fails instead of hanging); a CSVLogger or ModelCheckpoint
-- that cannot write (a full device, a file size limit) stops fit with an
-- error naming the file; CR-only CSV files load; a TSV read with ',' says
-- which separator to use.
local H = require "helper"
local check, checkerr = H.check, H.checkerr

local base = os.tmpname()
local created = {}
local function tmp(name)
  local p = base .. "_" .. name
  created[#created + 1] = p
  return p
end
local function exists(p)
  local f = io.open(p, "rb")
  if f then f:close() end
  return f ~= nil
end
local function write(p, text)
  local f = assert(io.open(p, "wb"))
  assert(f:write(text))
  assert(f:close())
  return p
end

local function small_model()
  local m = nn.Sequential({nn.Dense(1, {input_dim = 2})})
  m:compile{loss = "mse", optimizer = "sgd"}
  return m
end

-- Runs Lua code in a child nnlua (with `shell` before it, e.g. a ulimit),
-- bounded by 20 s. Returns the exit status and everything it printed.
local bin = os.getenv("NNLUA_BIN") or (arg and arg[-1]) or "nnlua"
local function run_child(code, shell)
  local script = tmp("child" .. #created .. ".lua")
  write(script, code)
  local out = tmp("child" .. #created .. ".out")
  local cmd = string.format("%s timeout 20 %q %q >%q 2>&1", shell or "", bin, script, out)
  local ok, how, status = os.execute(cmd)
  local f = io.open(out, "rb")
  local text = f and f:read("a") or ""
  if f then f:close() end
  return ok and 0 or status, text, how
end

H.test("paths with a NUL byte are refused everywhere", function()
  local cut = tmp("nul")
  local bad = cut .. "\0.safetensors"
  local m = small_model()
  checkerr("save: path contains a NUL byte", m.save, m, bad)
  checkerr("save: path contains a NUL byte", nn.save, m, bad)
  check(not exists(cut), "nothing written at the cut name")
  m:save(cut)
  checkerr("nn.load: path contains a NUL byte", nn.load, bad)
  checkerr("nn.load: path must be a string, got no value", nn.load)
  write(cut .. ".csv", "a,b\n1,2\n")
  checkerr("nn.data.csv: path contains a NUL byte", nn.data.csv, cut .. ".csv\0x")
  checkerr("nn.data.idx: path contains a NUL byte", nn.data.idx, cut .. "\0")
  checkerr("nn.data.fashion_mnist: opts.path contains a NUL byte",
           nn.data.fashion_mnist, {path = "/usr\0/share"})
  checkerr("CSVLogger: the path contains a NUL byte", nn.callbacks.CSVLogger, cut .. "\0.csv")
  checkerr("ModelCheckpoint: the path contains a NUL byte", nn.callbacks.ModelCheckpoint,
           {cut .. "\0{epoch}"})
  checkerr("CSVLogger: expected a file path first, got an empty string", nn.callbacks.CSVLogger, "")
  created[#created + 1] = cut .. ".csv"
  check(nn.data.__open_log == nil, "the log opener is not left in nn.data")
end)

H.test("FIFOs never block a reader or the CSV log", function()
  local fifo = tmp("fifo")
  check(os.execute("mkfifo " .. fifo), "mkfifo")
  local code = string.format([[
local fifo = %q
local function expect(what, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, what .. ": no error")
  assert(tostring(err):find("FIFO", 1, true), what .. ": " .. tostring(err))
  print(what .. ": " .. tostring(err))
end
expect("load", nn.load, fifo)
expect("csv", nn.data.csv, fifo)
expect("idx", nn.data.idx, fifo)
local m = nn.Sequential({nn.Dense(1, {input_dim = 2})})
m:compile{loss = "mse", optimizer = "sgd"}
local x, y = nn.rand(4, 2), nn.rand(4, 1)
for _, append in ipairs({false, true}) do
  expect("log", m.fit, m, x, y, {epochs = 1, verbose = 0,
         callbacks = {nn.callbacks.CSVLogger(fifo, {append = append})}})
end
print("child done")
]], fifo)
  local status, out = run_child(code)
  check(status == 0 and out:find("child done", 1, true),
        "child (status " .. tostring(status) .. ", 124 = timed out): " .. out)
  check(out:find("load: nn.load: cannot read '" .. fifo .. "': it is a FIFO", 1, true), out)
  check(out:find("csv: nn.data.csv: cannot read '" .. fifo .. "': it is a FIFO", 1, true), out)
  check(out:find("log: nn.callbacks.CSVLogger: cannot open '" .. fifo ..
                 "': it is a FIFO (named pipe) that nobody reads", 1, true), out)
  checkerr("is a directory", nn.data.csv, "/tmp")
  checkerr("is a character device", nn.load, "/dev/null")
end)

H.test("CSVLogger on a full device stops fit with the error", function()
  local m = small_model()
  local x, y = nn.rand(8, 2), nn.rand(8, 1)
  local err = checkerr("nn.callbacks.CSVLogger: cannot write '/dev/full': No space left",
                       m.fit, m, x, y, {epochs = 3, verbose = 0,
                       callbacks = {nn.callbacks.CSVLogger("/dev/full")}})
  check(not err:find("attempt to", 1, true), err)
  -- the same logger can run again after the failure, to a good file
  local good = tmp("good.csv")
  local cb = nn.callbacks.CSVLogger(good)
  m:fit(x, y, {epochs = 2, verbose = 0, callbacks = {cb}})
  local n = 0
  for _ in io.lines(good) do n = n + 1 end
  check(n == 3, "header and 2 rows, got " .. n)
end)

H.test("file size limit: CSVLogger and ModelCheckpoint fail, old files kept", function()
  local log, ckpt = tmp("limit.csv"), tmp("limit.safetensors")
  local code = string.format([[
local log, ckpt = %q, %q
nn.seed(1)
local m = nn.Sequential({nn.Dense(2, {input_dim = 2})})
m:compile{loss = "mse", optimizer = "sgd"}
local x, y = nn.rand(8, 2), nn.rand(8, 2)
m:save(ckpt) -- small: fits the limit
local big = nn.Sequential({nn.Dense(256, {input_dim = 256})})
big:compile{loss = "mse", optimizer = "sgd"}
local ok, err = pcall(big.fit, big, nn.rand(4, 256), nn.rand(4, 256), {epochs = 2, verbose = 0,
  callbacks = {nn.callbacks.ModelCheckpoint{ckpt}}})
print("ckpt:", ok, err)
-- a log row per epoch until the limit: 60 epochs of long rows
local names = {}
local cb = {on_epoch_end = function(e, logs)
  for i = 1, 40 do logs[string.format("metric_with_a_long_name_%%02d", i)] = i / 3 end
end}
ok, err = pcall(m.fit, m, x, y, {epochs = 60, verbose = 0,
  callbacks = {cb, nn.callbacks.CSVLogger(log)}})
print("log:", ok, err)
]], log, ckpt)
  local status, out = run_child(code, "ulimit -f 40; trap '' XFSZ;")
  check(status == 0, "child status " .. tostring(status) .. ": " .. out)
  check(out:find("ckpt:\tfalse\t", 1, true) and
        out:find("save: cannot write '" .. ckpt .. "': File too large", 1, true), out)
  check(out:find("log:\tfalse\tnn.callbacks.CSVLogger: cannot write '" .. log ..
                 "': File too large", 1, true), out)
  local small = nn.load(ckpt) -- the old checkpoint is whole
  check(#small:get_weights() == 2, "the first checkpoint is intact")
  local dir = base:match("^(.*)/") or "."
  local p = io.popen("ls -a " .. dir)
  local listing = p:read("a")
  p:close()
  local prefix = "." .. (ckpt:match("[^/]+$")) .. ".tmp-"
  check(not listing:find(prefix, 1, true), "no temporary left: " .. listing)
end)

H.test("CSV with CR line ends, and a TSV read with ','", function()
  local p = write(tmp("mac.csv"), "a,b,label\r1,2,x\r3,4,y\r5,6,x\r")
  local x, y, info = nn.data.csv(p)
  H.shape(x, 3, 2)
  check(info.classes[1] == "x" and y:get(3) == 1, "labels")
  local t = write(tmp("t.tsv"), "a\tb\tc\n1\t2\t3\n")
  checkerr(t .. ":1: no feature columns: only 1 column found with sep ','; the lines " ..
           "contain tabs: use sep = '\\t'", nn.data.csv, t)
  H.shape((nn.data.csv(t, {sep = "\t"})), 1, 2)
  local h = write(tmp("h.csv"), "a,b\n")
  checkerr(h .. ": no data: only a header (line 1)", nn.data.csv, h)
  checkerr("nn.data.csv: " .. h .. ": no data", nn.data.csv, h)
end)

for _, p in ipairs(created) do os.remove(p) end
os.remove(base)
H.done()
