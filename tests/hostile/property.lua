-- The hostile property test: calls every public function and method of the
-- Lua API (enumerated from the live nn table, its subtables and the
-- metatables of every kind of object it makes, so new functions are
-- covered without editing this file) with random hostile arguments mixed
-- with valid-looking ones, and requires each call to return or raise a Lua
-- error. A crash, a sanitizer report or a hang is a failure.
--
-- Run by tests/test_hostile.c, which owns the parts Lua cannot do: it
-- starts this script in a fresh temporary folder (every path below is
-- relative to it, so nothing is written elsewhere), with a fake gnuplot,
-- no display, memory limits, and a watchdog that reads the progress lines
-- this script writes on fd 3 before and after every call: a call still
-- running after a soft deadline gets a SIGINT (Ctrl-C must stop any call),
-- after a hard deadline the process group is killed and the call named.
-- Lua code is also bounded by an instruction-count hook.
--
-- Environment (set by the driver; see docs/building.md):
--   NNLUA_HOSTILE_SEED     the seed (printed by the driver)
--   NNLUA_HOSTILE_CALLS    number of calls (default 100000)
--   NNLUA_HOSTILE_ROUND    first round to run (each round of ROUND_CALLS
--                          calls rebuilds its objects and reseeds from
--                          seed and round, so a failure replays from its
--                          round)
--   NNLUA_HOSTILE_VERBOSE  1: also print every call on stderr
local SEED = math.tointeger(tonumber(os.getenv("NNLUA_HOSTILE_SEED") or "")) or 1
local NCALLS = math.tointeger(tonumber(os.getenv("NNLUA_HOSTILE_CALLS") or "")) or 100000
local FIRST_ROUND = math.tointeger(tonumber(os.getenv("NNLUA_HOSTILE_ROUND") or "")) or 0
local VERBOSE = os.getenv("NNLUA_HOSTILE_VERBOSE") == "1"
local ROUND_CALLS = 250
-- Lua instructions one call may run (the hook counts in steps of HOOK_STEP).
local HOOK_STEP = 10000
local HOOK_BUDGET = 3000 -- steps: 3e7 instructions
local HANG = "hostile: instruction budget exceeded"

-- Refuse to run anywhere but the driver's temporary folder: calls write
-- files under relative names.
do
  local f = io.open(".nnlua-hostile-dir", "r")
  if not f then
    error("property.lua must be run by test_hostile (in its temporary folder)", 0)
  end
  f:close()
end

local progress = io.open("/dev/fd/3", "w")
if progress then progress:setvbuf("no") end
local function report(line)
  if progress then progress:write(line, "\n") end
end

local nn = nn
local unpack, pack, type, pcall, select = table.unpack, table.pack, type, pcall, select
local rawequal, rawget, rawlen, tostring = rawequal, rawget, rawlen, tostring
local random = math.random
local gc_of = {} -- function -> true for __gc/__close metamethods (called rarely)

-- Bugs already recorded in /work/notes/bugs-hostile.md (Hn) whose fix is
-- under way in someone else's files: the values that trigger them are not
-- made while they are listed here, so the test can look for new bugs.
-- Remove an entry when its bug is fixed. The END line lists them.
local known = {
}

------------------------------------------------------------------------
-- Enumeration of the API.
------------------------------------------------------------------------

-- Functions that must not run in a test, with the reason. Keep it short.
-- (Nothing opens a window: the driver unsets DISPLAY and fakes gnuplot.)
local deny = {}
do
  -- Where Debian's dataset-fashion-mnist is installed, fashion_mnist()
  -- loads 70,000 images per call (seconds under ASan): hundreds of calls
  -- would take the whole run. test_datasets covers it.
  local f = io.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb")
  if f then
    f:close()
    deny["nn.data.fashion_mnist"] = "the real data set is installed: too slow"
  end
end

-- entries: {name = "nn.data.csv", fn = f, kind = "tensor"|"model"|...|nil}
-- kind is the type of the object the function is a method of (its first
-- argument is then usually such an object).
local entries, seen_fn = {}, {}
local kind_of_table = {} -- metatables and method tables -> kind of object
local function add_entry(name, fn, kind)
  if deny[name] then return end
  if known.gc_by_hand and (kind == "model" or kind == "layer") and name:match("__gc$") then
    return
  end
  -- One entry per function and kind (nn.Tensor.get is nn.Tensor.methods.get).
  seen_fn[fn] = seen_fn[fn] or {}
  if seen_fn[fn][tostring(kind)] then return end
  seen_fn[fn][tostring(kind)] = true
  local short = name:match("([^.:]+)$")
  if short == "__gc" or short == "__close" then gc_of[fn] = true end
  entries[#entries + 1] = {name = name, fn = fn, kind = kind, short = short}
end

local function walk(t, prefix, kind, depth, seen)
  if depth > 3 or seen[t] then return end
  seen[t] = true
  kind = kind_of_table[t] or kind
  local keys = {}
  for k in next, t do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = rawget(t, k)
    local name = prefix .. "." .. k
    if type(v) == "function" then
      add_entry(name, v, kind)
    elseif type(v) == "table" then
      walk(v, name, kind, depth + 1, seen)
    end
  end
end

-- The methods of an object: its metatable's functions and those of its
-- __index table (and nested method tables), whatever their names.
local function walk_object(obj, label, kind)
  local mt = debug.getmetatable(obj)
  if type(mt) == "table" then walk(mt, label, kind, 0, {}) end
  if type(obj) == "table" then
    for k, v in next, obj do
      if type(k) == "string" and type(v) == "function" then
        add_entry(label .. "." .. k, v, kind)
      end
    end
  end
end

------------------------------------------------------------------------
-- Values. Every value carries a short description (d) made when it was
-- made, so describing a call never runs a metamethod.
------------------------------------------------------------------------
local P -- the pool of the current round (objects by kind)

local function V(v, d) return {v = v, d = d} end
local function pick(list) return list[random(#list)] end

local nan, inf = 0 / 0, math.huge

local numbers = {
  V(0, "0"), V(-0.0, "-0.0"), V(1, "1"), V(2, "2"), V(3, "3"), V(-1, "-1"),
  V(0.5, "0.5"), V(1.5, "1.5"), V(nan, "nan"), V(inf, "inf"), V(-inf, "-inf"),
  V(math.maxinteger, "maxinteger"), V(math.mininteger, "mininteger"),
  V(2 ^ 53, "2^53"), V(2 ^ 53 + 2, "2^53+2"), V(2 ^ 63, "2^63"), V(-2 ^ 63, "-2^63"),
  V(2 ^ 31, "2^31"), V(2 ^ 32, "2^32"), V(-2 ^ 31, "-2^31"), V(2 ^ 31 - 1, "2^31-1"),
  V(1e9, "1e9"), V(1e5, "1e5"), V(1e308, "1e308"), V(5e-324, "5e-324"),
  V(1e-7, "1e-7"), V(-1e-7, "-1e-7"), V(1 << 62, "1<<62"), V(0x7fffffff, "0x7fffffff"),
}

local names = {
  "relu", "linear", "softmax", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "swish",
  "mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy",
  "sparse_categorical_crossentropy", "accuracy", "precision", "recall",
  "sgd", "adam", "adamw", "rmsprop", "adagrad", "glorot_uniform", "he_normal", "zeros",
  "ones", "random_normal", "loss", "val_loss", "val_accuracy", "auto", "min", "max",
  "Dense", "Sequential", "fit", "nn",
}
-- Relative paths only: the driver runs us in a fresh temporary folder.
local paths = {
  "m.safetensors", "good.safetensors", "bad.safetensors", "data.csv", "tsv.csv", "cr.csv",
  "empty.csv", "data.idx", "x.png", "x.svg", "x.pdf", "x.txt", "x.gif", "plot.gp",
  "log.csv", "dir", "dir/", "fifo", "missing/x.png", "missing.csv", ".", "link",
}
if known.fifo then
  for i, p in ipairs(paths) do
    if p == "fifo" then table.remove(paths, i) break end
  end
end

local strings = {
  V("", "''"), V("\0", "'\\0'"), V("a\0b", "'a\\0b'"), V("x.png\0.txt", "'x.png\\0.txt'"),
  V(string.rep("a", 100000), "'a'x100000"), V("%s%n%d", "'%s%n%d'"), V("\xff\xfe", "'\\xff\\xfe'"),
  V("'\"\\`$(x)\n", "quotes"), V("1", "'1'"), V("nan", "'nan'"), V("-1", "'-1'"),
}
for _, s in ipairs(names) do strings[#strings + 1] = V(s, "'" .. s .. "'") end
for _, s in ipairs(paths) do strings[#strings + 1] = V(s, "'" .. s .. "'") end

local function raiser(msg) return function() error(msg) end end

-- Tables with metatables that fight back.
local function evil_tables()
  local boom = raiser("evil metamethod")
  local list = {}
  local function E(mt, d, base)
    list[#list + 1] = V(setmetatable(base or {}, mt), d)
  end
  E({__index = boom}, "{__index raises}")
  E({__index = boom}, "{1,2 __index raises}", {1, 2})
  E({__newindex = boom}, "{__newindex raises}")
  E({__len = boom}, "{__len raises}", {1, 2})
  E({__len = function() return 2 ^ 62 end}, "{__len 2^62}", {1, 2})
  E({__len = function() return math.maxinteger end}, "{__len maxinteger}", {1})
  E({__len = function() return -1 end}, "{__len -1}", {1, 2})
  E({__len = function() return 0.5 end}, "{__len 0.5}", {1, 2})
  E({__len = function() return nan end}, "{__len nan}", {1, 2})
  E({__len = function() return "3" end}, "{__len '3'}", {1, 2})
  E({__len = function() return {} end}, "{__len table}", {1, 2})
  E({__len = function() return 5 end}, "{__len 5, 2 entries}", {1, 2})
  E({__eq = boom, __lt = boom, __le = boom}, "{__eq/__lt raise}")
  E({__tostring = boom}, "{__tostring raises}")
  E({__tostring = function() return {} end}, "{__tostring table}")
  E({__name = 42}, "{__name 42}")
  E({__name = "nn.Tensor"}, "{__name nn.Tensor}")
  E({__gc = boom}, "{__gc raises}")
  E({__close = boom}, "{__close raises}")
  E({__pairs = boom}, "{__pairs raises}", {a = 1})
  E({__pairs = function() return function() return nil end end}, "{__pairs empty}", {1})
  E({__call = boom}, "{__call raises}")
  E({__concat = boom, __add = boom, __unm = boom}, "{__add raises}")
  E({__metatable = "locked"}, "{__metatable locked}")
  E({__index = function(_, k) return k end}, "{__index echoes}")
  E({__index = function() return 0 / 0 end}, "{__index nan}")
  -- An option table whose every lookup raises.
  E({__index = boom, __pairs = boom, __len = boom}, "{all raise}")
  return list
end

-- Plain tables, including ones that look like shapes, data and options.
local function plain_tables()
  local cyc = {}
  cyc[1] = cyc
  local deep = {}
  do
    local t = deep
    for _ = 1, 5000 do
      local n = {}
      t[1] = n
      t = n
    end
    t[1] = 1
  end
  local list = {
    V({}, "{}"), V({1, 2, 3}, "{1,2,3}"), V({{1, 2}, {3, 4}}, "{{1,2},{3,4}}"),
    V({{1, 2}, {3}}, "{{1,2},{3}}"), V({nan, inf}, "{nan,inf}"), V({2, 3}, "{2,3}"),
    V({-1}, "{-1}"), V({0}, "{0}"), V({0, 2}, "{0,2}"), V({1e9, 1e9}, "{1e9,1e9}"),
    V({2 ^ 62}, "{2^62}"), V({1, nil, 3}, "{1,nil,3}"), V({[0] = 1, [-1] = 2}, "{[0],[-1]}"),
    V({[1.5] = 1}, "{[1.5]=1}"), V({"a", "b"}, "{'a','b'}"), V({{}}, "{{}}"),
    V(cyc, "{cycle}"), V(deep, "{nested 5000}"), V({1, 2, 3, 4, 5, 6, 7, 8, 9}, "{1..9}"),
    V({true}, "{true}"), V({x = 1}, "{x=1}"), V({1, {2}}, "{1,{2}}"),
    V({{1, 2}, {3, 4}, {5, 6}, {7, 8}}, "{4x2 rows}"),
  }
  return list
end

-- Functions passed where callbacks, map functions or schedulers go.
local fn_calls = 0
local call_random -- forward: a reentrant random API call
local running_call -- the entry of the call running now (nil between calls)
local function hostile_functions()
  local list = {
    V(raiser("raised by a callback"), "fn raises"),
    V(function() error({}) end, "fn raises {}"),
    V(function() error() end, "fn raises nil"),
    V(function() error(setmetatable({}, {__tostring = raiser("x")})) end, "fn raises evil"),
    V(function() end, "fn returns nothing"),
    V(function() return nan end, "fn returns nan"),
    V(function() return inf, inf, inf end, "fn returns inf x3"),
    V(function() return "str" end, "fn returns 'str'"),
    V(function() return {} end, "fn returns {}"),
    V(function(x) return x end, "fn identity"),
    V(function(x) return type(x) == "number" and x * 2 or 1 end, "fn doubles"),
    V(function(_, lr) return lr end, "fn(epoch, lr) returns lr"),
    V(function() return true end, "fn returns true"),
    V(function() coroutine.yield(1) end, "fn yields"),
    V(function() collectgarbage() return 1 end, "fn collects garbage"),
    V(function()
        -- Mostly the x or y the templates of fit, evaluate... pass.
        local t = (random(2) == 1 and P.tensor[random(2)] or pick(P.tensor)).v
        if known.close_in_call and running_call then return 1 end
        if type(t) == "userdata" then pcall(t.close, t) end
        return 1
      end, "fn closes a tensor"),
    -- With the debug library a callback reaches what the C functions
    -- below it hold on their stacks ("(C temporary)" locals): tensors being
    -- written, models being trained. Close or finalize them.
    V(function()
        for level = 2, 6 do
          for i = 1, 12 do
            local ok, name, v = pcall(debug.getlocal, level, i)
            if not ok or not name then break end
            local mt = type(v) == "userdata" and debug.getmetatable(v)
            if mt and rawget(mt, "__name") == "nn.Tensor" then pcall(v.close, v) end
          end
        end
        return 1
      end, "fn closes the tensors on the stack"),
    V(function()
        for level = 2, 6 do
          for i = 1, 12 do
            local ok, name, v = pcall(debug.getlocal, level, i)
            if not ok or not name then break end
            local mt = type(v) == "userdata" and debug.getmetatable(v)
            local gc = mt and rawget(mt, "__gc")
            if gc and random(2) == 1 then pcall(gc, v) end
          end
        end
        return 1
      end, "fn finalizes the objects on the stack"),
    V(function()
        local m = pick(P.model).v
        pcall(function() m.stop_training = true end)
        return 0
      end, "fn sets stop_training"),
    V(function()
        fn_calls = fn_calls + 1
        if fn_calls < 3 then call_random() end
        fn_calls = fn_calls - 1
        return 1
      end, "fn calls the API"),
    V(print, "print"), V(error, "error"), V(coroutine.yield, "coroutine.yield"),
  }
  return list
end

local function coroutines()
  local dead = coroutine.create(function() end)
  coroutine.resume(dead)
  local suspended = coroutine.create(function() coroutine.yield() end)
  coroutine.resume(suspended)
  return {
    V(coroutine.create(function() end), "coroutine"), V(dead, "dead coroutine"),
    V(suspended, "suspended coroutine"), V(coroutine.running(), "running coroutine"),
  }
end

------------------------------------------------------------------------
-- The pool of objects of a round: tensors (plain, views, closed, empty,
-- odd values), models (unbuilt, built, compiled, loaded, destroyed by
-- hand), layers, optimizers, callbacks, histories and plot sessions.
------------------------------------------------------------------------
local function try(f, ...)
  local ok, v = pcall(f, ...)
  if ok then return v end
  return nil
end

local function add(list, v, d)
  if v ~= nil then list[#list + 1] = V(v, d) end
end

local function write_file(path, s)
  local f = io.open(path, "wb")
  if f then f:write(s) f:close() end
end

local function make_files()
  write_file("data.csv", "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
  write_file("tsv.csv", "a\tb\tc\n1\t2\t1\n3\t4\t2\n")
  write_file("cr.csv", "a,b,c\r1,2,1\r3,4,2\r")
  write_file("empty.csv", "")
  -- IDX: magic 0 0 8 (uint8) 2 dims, 2 x 3.
  write_file("data.idx", "\0\0\8\2\0\0\0\2\0\0\0\3" .. "\1\2\3\4\5\6")
  write_file("bad.safetensors", "\16\0\0\0\0\0\0\0{\"a\":1}        ")
  local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}), nn.Dense(2)}
  m:compile{loss = "mse", optimizer = "adam"}
  m:save("good.safetensors")
  os.execute("mkdir -p dir; [ -p fifo ] || mkfifo fifo; ln -sf good.safetensors link")
end

-- How the fake gnuplot behaves this round (see test_hostile.c).
local function gnuplot_mode()
  local r = random(10)
  local mode = r <= 6 and "cat" or ({"exit", "fail", "die", "noise"})[r - 6]
  write_file(".gnuplot-mode", mode .. "\n")
end

local function build_pool()
  P = {}
  gnuplot_mode()
  local T, M, L = {}, {}, {}
  P.tensor, P.model, P.layer = T, M, L
  local x = nn.rand(4, 2)
  add(T, x, "rand(4,2)")
  add(T, nn.rand(4, 1), "rand(4,1)")
  add(T, nn.rand(4, 3), "rand(4,3)")
  add(T, nn.rand(4), "rand(4)")
  add(T, nn.rand(2, 2, 2), "rand(2,2,2)")
  add(T, nn.rand(1, 1), "rand(1,1)")
  add(T, nn.tensor({1, 2, 1, 2}), "labels{1,2,1,2}")
  add(T, nn.tensor({{1}, {3}, {2}, {1}}), "labels{{1},{3},{2},{1}}")
  add(T, nn.tensor({{1, 0}, {0, 1}, {1, 0}, {0, 1}}), "onehot(4,2)")
  add(T, nn.tensor({known.huge_label and 3 or 1e5, 1, 2, 1}),
      known.huge_label and "labels{3,1,2,1}" or "labels{1e5,..}")
  add(T, nn.tensor({inf, 1, nan, -1}), "{inf,1,nan,-1}")
  add(T, nn.tensor({{nan, inf}, {-inf, 0}, {1, 2}, {3, 4}}), "4x2 with nan/inf")
  add(T, nn.tensor({{1e30, -1e30}, {1e30, 1e30}, {0, 0}, {1, 1}}), "4x2 with 1e30")
  add(T, try(nn.zeros, 0, 2), "zeros(0,2)")
  add(T, try(nn.zeros, 0), "zeros(0)")
  add(T, x:rows(1, 2), "rand(4,2):rows(1,2)")
  add(T, x:rows(3, 2), "rand(4,2):rows(3,2) (empty)")
  add(T, x[2], "rand(4,2)[2] (row view)")
  add(T, x:reshape(8), "rand(4,2):reshape(8)")
  add(T, x:reshape(2, 2, 2), "rand(4,2):reshape(2,2,2)")
  local closed = nn.rand(4, 2)
  closed:close()
  add(T, closed, "closed 4x2")
  local closed_base = nn.rand(4, 2)
  add(T, closed_base:rows(1, 2), "view of a closed tensor")
  closed_base:close()

  local reg = nn.Sequential{nn.Dense(4, {input_dim = 2, activation = "relu"}), nn.Dense(1)}
  reg:compile{loss = "mse", optimizer = "sgd"}
  add(M, reg, "model reg 2->1 compiled")
  local cls = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "softmax"})}
  cls:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = {"accuracy"}}
  add(M, cls, "model cls 2->3 compiled")
  local bin = nn.Sequential{nn.Dense(1, {input_dim = 2, activation = "sigmoid"})}
  bin:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.RMSprop{},
              metrics = {"accuracy", "precision", "recall"}}
  add(M, bin, "model bin 2->1 compiled")
  local deep = nn.Sequential{nn.Dense(4, {input_dim = 2}), nn.BatchNormalization(),
                             nn.Activation("tanh"), nn.Dropout(0.5), nn.Dense(2)}
  deep:compile{loss = "categorical_crossentropy", optimizer = "adamw", metrics = {"mae"}}
  add(M, deep, "model bn/dropout 2->2 compiled")
  local unbuilt = nn.Sequential()
  unbuilt:add(nn.Dense(2))
  add(M, unbuilt, "model unbuilt")
  add(M, nn.Sequential(), "model empty")
  local flat = nn.Sequential{nn.Flatten({input_shape = {2, 2}}), nn.Dense(2)}
  add(M, try(function() return flat end), "model flatten uncompiled")
  add(M, try(nn.load, "good.safetensors"), "model loaded")
  for _, e in ipairs(M) do
    local layers = try(function() return e.v.layers end)
    if type(layers) == "table" then
      for i, l in ipairs(layers) do add(L, l, "layer " .. i .. " of " .. e.d) end
    end
  end
  add(L, nn.Dense(3), "Dense(3)")
  add(L, nn.Dense(2, {input_dim = 2}), "Dense(2, input_dim 2)")
  add(L, nn.Activation("relu"), "Activation relu")
  add(L, nn.Dropout(0.2), "Dropout(0.2)")
  add(L, nn.BatchNormalization(), "BatchNormalization")
  add(L, nn.Flatten(), "Flatten")
  -- A model destroyed by calling its __gc by hand, and a layer of it.
  if not known.gc_by_hand and random(4) == 1 then
    local dead = nn.Sequential{nn.Dense(2, {input_dim = 2})}
    local l1 = dead.layers[1]
    local mt = debug.getmetatable(dead)
    if mt and mt.__gc then pcall(mt.__gc, dead) end
    add(M, dead, "model after __gc by hand")
    add(L, l1, "layer of a model after __gc")
  end

  P.weights = {}
  for _, e in ipairs(M) do
    local w = try(function() return e.v:get_weights() end)
    if type(w) == "table" then add(P.weights, w, "get_weights() of " .. e.d) end
  end
  for _, e in ipairs(L) do
    local w = try(function() return e.v:get_weights() end)
    if type(w) == "table" then add(P.weights, w, "get_weights() of " .. e.d) end
  end

  P.opt = {}
  for _, k in ipairs({"SGD", "Adam", "AdamW", "RMSprop", "Adagrad"}) do
    add(P.opt, try(nn.optimizers[k], {}), "optimizers." .. k .. "{}")
  end
  P.cb = {}
  local cbs = nn.callbacks
  add(P.cb, try(cbs.EarlyStopping, {monitor = "loss", patience = 1}), "EarlyStopping")
  add(P.cb, try(cbs.TerminateOnNaN), "TerminateOnNaN")
  add(P.cb, try(cbs.CSVLogger, "log.csv"), "CSVLogger log.csv")
  add(P.cb, try(cbs.LearningRateScheduler, function(_, lr) return lr end), "LRScheduler")
  add(P.cb, try(cbs.ModelCheckpoint, {"ck.safetensors"}), "ModelCheckpoint")
  add(P.cb, try(cbs.LivePlot, {file = "live.png"}), "LivePlot file")
  add(P.cb, {on_epoch_end = function() end, on_batch_end = function() end}, "cb table")
  -- fit sets callback.model; hooks called by hand need one too.
  for _, c in ipairs(P.cb) do
    if random(4) > 1 then pcall(function() c.v.model = pick(M).v end) end
  end
  P.hist = {}
  add(P.hist, try(reg.fit, reg, nn.rand(4, 2), nn.rand(4, 1), {epochs = 2, verbose = 0}),
      "history of reg")
  add(P.hist, {history = {loss = {1, 0.5}}}, "{history={loss={1,0.5}}}")
  -- A plot session (the gnuplot of a LivePlot, only reachable during fit).
  P.session = {}
  if random(4) == 1 then
    local live = try(cbs.LivePlot, {interval = 0, file = "live.png"})
    local grab = {on_epoch_end = function()
      local s = live and live.session()
      if s then add(P.session, s, "LivePlot session") end
    end}
    if live then
      pcall(reg.fit, reg, nn.rand(4, 2), nn.rand(4, 1),
            {epochs = 1, verbose = 0, callbacks = {live, grab}})
      add(P.cb, live, "LivePlot after fit")
    end
  end
  P.wrong_ud = {}
  local f = io.open("empty.csv", "r")
  if f then f:close() add(P.wrong_ud, f, "closed FILE*") end
  add(P.wrong_ud, io.stderr, "io.stderr")

  P.evil = evil_tables()
  P.tables = plain_tables()
  P.fns = hostile_functions()
  -- The ones that change the objects a running call holds.
  P.fns_danger = {}
  for _, f in ipairs(P.fns) do
    if f.d == "fn closes a tensor" or f.d == "fn collects garbage" or
       f.d == "fn closes the tensors on the stack" or
       f.d == "fn finalizes the objects on the stack" or
       f.d == "fn sets stop_training" or f.d == "fn calls the API" or f.d == "fn yields" then
      P.fns_danger[#P.fns_danger + 1] = f
    end
  end
  P.cos = coroutines()
end

------------------------------------------------------------------------
-- Argument generators.
------------------------------------------------------------------------
local A = {}
local option_keys = {
  "epochs", "batch_size", "verbose", "shuffle", "validation_split", "validation_data",
  "callbacks", "initial_epoch", "input_dim", "input_shape", "activation", "use_bias",
  "kernel_initializer", "bias_initializer", "kernel_regularizer", "name", "loss",
  "optimizer", "metrics", "file", "script", "title", "image", "header", "label", "sep",
  "classes", "flatten", "custom_objects", "lr", "momentum", "monitor", "patience",
  "every", "logy", "interval", "save_best_only", "mode", "min_delta", "xlabel", "ylabel",
  "momentum", "epsilon", "center", "scale", "rate", "units", "restore_best_weights",
}
local option_seen = {}
for _, k in ipairs(option_keys) do option_seen[k] = true end

-- Option names listed in error messages ("(valid: a, b, c)") join the keys
-- the mutations try, so options added later are reached too.
local function learn_options(msg)
  if type(msg) ~= "string" then return end
  local list = msg:match("valid: ([%w_, ]+)")
  if not list then return end
  for k in list:gmatch("[%a_][%w_]*") do
    if not option_seen[k] and #option_keys < 400 then
      option_seen[k] = true
      option_keys[#option_keys + 1] = k
    end
  end
end

function A.hostile()
  local r = random(100)
  if r <= 22 then return pick(numbers)
  elseif r <= 36 then return pick(strings)
  elseif r <= 46 then return pick(P.evil)
  elseif r <= 56 then return pick(P.tables)
  elseif r <= 62 then return pick(P.fns)
  elseif r <= 64 then return A.hostile_cb()
  elseif r <= 67 then return pick(P.cos)
  elseif r <= 70 then return pick(P.wrong_ud)
  elseif r <= 73 then return V(nil, "nil")
  elseif r <= 75 then return V(random(2) == 1, "boolean")
  elseif r <= 84 then return pick(P.tensor)
  elseif r <= 89 then return pick(P.model)
  elseif r <= 92 then return pick(P.layer)
  elseif r <= 94 then return pick(P.opt)
  elseif r <= 96 then return pick(P.cb)
  elseif r <= 98 then return P.hist[1] and pick(P.hist) or V(nil, "nil")
  else return V(nn, "nn")
  end
end

local function num(lo, hi) local n = random(lo, hi) return V(n, tostring(n)) end
local function const(v, d) return function() return V(v, d or tostring(v)) end end
local function one_of(...)
  local gens = {...}
  return function() return pick(gens)() end
end
local function from(list) return function() return pick(list) end end

A.t = function() return pick(P.tensor) end
A.x = function()
  local r = random(10)
  if r <= 6 then return P.tensor[1] end -- rand(4,2)
  if r == 7 then return P.tensor[12] end -- 4x2 with nan/inf
  return pick(P.tensor)
end
A.y = function()
  local r = random(10)
  if r <= 3 then return P.tensor[2] end -- rand(4,1)
  if r <= 5 then return P.tensor[7] end -- labels 1,2
  if r <= 6 then return P.tensor[9] end -- one-hot
  if r <= 7 then return P.tensor[1] end
  return pick(P.tensor)
end
A.labels = function()
  local r = random(6)
  if r <= 3 then return P.tensor[7] end
  if r == 4 then return P.tensor[8] end
  return pick(P.tensor)
end
A.m = function() return pick(P.model) end
-- A compiled model (the first four of the pool) mostly.
A.mc = function() return random(4) > 1 and P.model[random(4)] or pick(P.model) end
A.mcls = function() return random(3) == 1 and pick(P.model) or P.model[2] end
A.l = function() return pick(P.layer) end
A.ml = one_of(A.m, A.l)
A.n = function() return num(1, 4) end
A.n0 = function() return num(-3, 5) end
A.big = function() return num(5, 60) end
A.f = function()
  local v = random() * 4 - 2
  return V(v, string.format("%.3g", v))
end
A.f01 = function()
  local v = random() * 0.9
  return V(v, string.format("%.3g", v))
end
A.name = function() local s = pick(names) return V(s, "'" .. s .. "'") end
A.path = function() local s = pick(paths) return V(s, "'" .. s .. "'") end
A.fn = function()
  if random(3) == 1 then return pick(random(2) == 1 and P.fns_danger or P.fns) end
  return V(function(v) return v end, "fn identity")
end
A.shape = function()
  local s = {}
  for i = 1, random(1, 3) do s[i] = random(1, 3) end
  return V(s, "{" .. table.concat(s, ",") .. "}")
end
A.nested = function()
  local r, c = random(1, 3), random(1, 3)
  local t = {}
  for i = 1, r do
    t[i] = {}
    for j = 1, c do t[i][j] = i + j / 10 end
  end
  return V(t, "{" .. r .. "x" .. c .. " numbers}")
end
A.flat = function()
  local t = {}
  for i = 1, 6 do t[i] = i end
  return V(t, "{1..6}")
end
A.tlist = function()
  local t, d = {}, {}
  for i = 1, random(0, 3) do
    local e = random(3) == 1 and A.hostile() or A.t()
    t[i], d[i] = e.v, e.d
  end
  return V(t, "{" .. table.concat(d, ", ") .. "}")
end
A.layers = function()
  local t, d = {}, {}
  for i = 1, random(0, 3) do
    local e = random(4) == 1 and A.hostile() or V(nn.Dense(random(1, 3), i == 1 and
      {input_dim = 2} or nil), "Dense")
    t[i], d[i] = e.v, e.d
  end
  return V(t, "{" .. table.concat(d, ", ") .. "}")
end
A.weights = function()
  if P.weights[1] and random(4) > 1 then return pick(P.weights) end
  return A.tlist()
end
-- A callback table whose hooks are hostile functions.
local hooks = {"on_train_begin", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
               "on_batch_end", "on_train_end"}
A.hostile_cb = function()
  local t, d = {}, {}
  for _ = 1, random(1, 3) do
    local h, f = pick(hooks), pick(random(2) == 1 and P.fns_danger or P.fns)
    t[h] = f.v
    d[#d + 1] = h .. "=" .. f.d
  end
  if random(6) == 1 then
    local e = A.hostile()
    local h = pick(hooks)
    t[h] = e.v
    d[#d + 1] = h .. "=" .. e.d
  end
  return V(t, "{" .. table.concat(d, ", ") .. "}")
end
A.cbs = function()
  local t, d = {}, {}
  for i = 1, random(0, 2) do
    local r = random(6)
    local e = r == 1 and A.hostile() or r <= 3 and A.hostile_cb() or pick(P.cb)
    t[i], d[i] = e.v, e.d
  end
  return V(t, "{" .. table.concat(d, ", ") .. "}")
end
A.logs = function()
  return V({loss = random(), accuracy = random(), val_loss = random()}, "logs")
end

-- Option tables: some valid entries.
local function opts(spec)
  -- In a fixed order: pairs' order changes from run to run (string hashes
  -- are seeded per state), and the draws must replay from a seed.
  local keys = {}
  for k in pairs(spec) do keys[#keys + 1] = k end
  table.sort(keys)
  return function()
    local t, d = {}, {}
    for _, k in ipairs(keys) do
      local gen = spec[k]
      if random(2) == 1 then
        local e = gen()
        t[k] = e.v
        d[#d + 1] = k .. "=" .. e.d
      end
    end
    table.sort(d)
    return V(t, "{" .. table.concat(d, ", ") .. "}")
  end
end

local function one_epoch() return V(random(1, 2), "epochs") end
A.fit_opts = function()
  local base = opts{
    batch_size = function() return num(1, 4) end,
    verbose = function() return num(0, 2) end,
    shuffle = function() return V(random(2) == 1, "bool") end,
    validation = function()
      if random(2) == 1 then return V(0.25, "0.25") end
      return V({P.tensor[1].v, P.tensor[2].v}, "{rand(4,2), rand(4,1)}")
    end,
    callbacks = A.cbs,
    initial_epoch = function() return num(0, 1) end,
  }()
  local t = base.v
  if t.validation then
    t[type(t.validation) == "number" and "validation_split" or "validation_data"] = t.validation
    t.validation = nil
  end
  t.epochs = one_epoch().v
  t.verbose = t.verbose or 0
  return base
end
A.pred_opts = opts{batch_size = function() return num(1, 5) end,
                   verbose = function() return num(0, 1) end}
A.compile_opts = opts{
  loss = from({V("mse", "'mse'"), V("sparse_categorical_crossentropy", "'scce'"),
               V("binary_crossentropy", "'bce'"), V("huber", "'huber'"),
               V("categorical_crossentropy", "'cce'"), V("mae", "'mae'")}),
  optimizer = one_of(from({V("sgd", "'sgd'"), V("adam", "'adam'"), V("rmsprop", "'rmsprop'"),
                           V("adagrad", "'adagrad'"), V("adamw", "'adamw'")}),
                     function() return pick(P.opt) end),
  metrics = from({V({"accuracy"}, "{'accuracy'}"), V({"mse", "mae"}, "{'mse','mae'}"),
                  V({"precision", "recall"}, "{'precision','recall'}"), V({}, "{}")}),
}
A.dense_opts = opts{
  input_dim = function() return num(1, 3) end,
  input_shape = function() return V({random(1, 3)}, "{n}") end,
  activation = A.name,
  use_bias = function() return V(random(2) == 1, "bool") end,
  kernel_initializer = from({V("glorot_uniform", "'glorot_uniform'"), V("zeros", "'zeros'"),
                             V("he_normal", "'he_normal'"), V("ones", "'ones'")}),
  kernel_regularizer = function() return V({l2 = 0.01}, "{l2=0.01}") end,
  name = function() return V("d" .. random(9), "'dN'") end,
}
A.bn_opts = opts{momentum = A.f01, epsilon = function() return V(1e-3, "1e-3") end,
                 input_shape = function() return V({2}, "{2}") end}
A.plot_opts = opts{
  file = from({V("x.png", "'x.png'"), V("x.txt", "'x.txt'"), V("x.svg", "'x.svg'"),
               V("missing/x.png", "'missing/x.png'")}),
  script = function() return V("plot.gp", "'plot.gp'") end,
  title = from({V("'90s", "\"'90s\""), V("a\"b", "'a\"b'"), V("t", "'t'")}),
}
-- decision_boundary predicts over a grid of resolution^2 points: small
-- ones keep the calls fast (a hostile resolution still comes by mutation).
A.boundary_opts = function()
  local o = A.plot_opts()
  if random(8) > 1 then
    local r = random(2, 24)
    o.v.resolution = r
    o.d = o.d .. "+{resolution=" .. r .. "}"
  end
  return o
end
A.weights_opts = opts{
  file = from({V("x.png", "'x.png'"), V("x.txt", "'x.txt'")}),
  image = from({V({1, 2}, "{1,2}"), V({2, 1}, "{2,1}"), V({0, 1e9}, "{0,1e9}")}),
}
A.csv_opts = opts{
  header = function() return V(random(2) == 1, "bool") end,
  label = one_of(function() return num(-1, 3) end, const(false),
                 const("label", "'label'")),
  sep = from({V(",", "','"), V("\t", "'\\t'"), V(";", "';'")}),
  classes = function() return V(random(2) == 1, "bool") end,
}
A.opt_opts = opts{lr = A.f01, momentum = A.f01, epsilon = A.f01,
                  nesterov = function() return V(true, "true") end}
A.cb_opts = opts{monitor = A.name, patience = A.n0, min_delta = A.f01,
                 mode = from({V("auto", "'auto'"), V("min", "'min'"), V("bad", "'bad'")})}

-- A compiled model of the pool with data that fits it (the pool's first
-- four models, in build_pool's order), so fit and evaluate get past their
-- checks and train.
local function matched()
  local i = random(4)
  local m = P.model[i]
  local y
  if i == 2 then y = P.tensor[random(7, 8)]
  elseif i == 4 then y = P.tensor[9]
  else y = P.tensor[2] end
  local x = random(5) == 1 and P.tensor[12] or P.tensor[1]
  return m, x, y
end
local function fit_args()
  local m, x, y = matched()
  return {m, x, y, A.fit_opts()}
end
local function evaluate_args()
  local m, x, y = matched()
  return {m, x, y, A.pred_opts()}
end

-- Templates: valid-looking argument lists, by function name (the last
-- part of its name) and, where kinds differ, by "kind:name". Functions
-- without one get random arguments only.
local tpl = {
  tensor = {one_of(A.nested, A.flat), A.shape},
  zeros = {A.n, A.n}, ones = {A.n, A.n}, rand = {A.n, A.n}, randn = {A.n, A.n},
  full = {A.shape, A.f}, arange = {A.n0, A.n0, A.n}, linspace = {A.f, A.f, A.n},
  eye = {A.n}, cat = {A.tlist, A.n}, matmul = {A.t, A.t}, seed = {A.n},
  threads = {function() return num(1, 2) end}, help = {A.hostile},
  Sequential = {A.layers}, Dense = {A.n, A.dense_opts}, Activation = {A.name},
  Dropout = {A.f01}, BatchNormalization = {A.bn_opts}, Flatten = {},
  add = {A.m, A.l}, compile = {A.m, A.compile_opts},
  fit = fit_args,
  predict = {A.mc, A.x, A.pred_opts}, evaluate = evaluate_args,
  summary = {A.m}, save = {A.m, A.path}, load = {A.path},
  get_weights = {A.ml}, set_weights = {A.ml, A.weights}, count_params = {A.ml},
  get_learning_rate = {A.m}, set_learning_rate = {A.m, A.f01},
  csv = {A.path, A.csv_opts}, idx = {A.path}, spiral = {A.big, A.n}, moons = {A.big, A.f01},
  sine = {A.big}, one_hot = {A.labels, A.n}, split = {A.x, A.y, A.f01},
  standardize = {A.x}, shuffle = {A.x, A.y},
  history = {function() return P.hist[1] and pick(P.hist) or A.hostile() end, A.plot_opts},
  lines = {A.t, A.t, A.plot_opts}, scatter = {A.x, A.labels, A.plot_opts},
  hist = {A.t, A.plot_opts}, weights = {one_of(A.l, A.t, A.m), A.weights_opts},
  confusion = {A.mcls, A.x, A.labels, A.plot_opts},
  decision_boundary = {A.mcls, A.x, A.labels, A.boundary_opts},
  model = {A.m, A.plot_opts},
  EarlyStopping = {A.cb_opts}, ModelCheckpoint = {A.cb_opts},
  LearningRateScheduler = {A.fn}, CSVLogger = {A.path}, TerminateOnNaN = {},
  LivePlot = {A.plot_opts},
  SGD = {A.opt_opts}, Adam = {A.opt_opts}, AdamW = {A.opt_opts}, RMSprop = {A.opt_opts},
  Adagrad = {A.opt_opts},
  ["tensor:apply"] = {A.t, A.fn}, ["tensor:map"] = {A.t, A.fn},
  ["tensor:get"] = {A.t, A.n, A.n}, ["tensor:set"] = {A.t, A.n, A.n, A.f},
  ["tensor:reshape"] = {A.t, A.n0, A.n}, ["tensor:rows"] = {A.t, A.n0, A.n0},
  ["tensor:size"] = {A.t, A.n0}, ["tensor:sum"] = {A.t, A.n0},
  ["tensor:mean"] = {A.t, A.n0}, ["tensor:max"] = {A.t, A.n0}, ["tensor:min"] = {A.t, A.n0},
  ["tensor:argmax"] = {A.t, A.n0},
  ["tensor:__index"] = {A.t, one_of(A.n0, A.name, A.shape)},
  ["tensor:__newindex"] = {A.t, A.n0, one_of(A.f, A.t)},
  ["tensor:__add"] = {A.t, one_of(A.t, A.f)}, ["tensor:__sub"] = {one_of(A.t, A.f), A.t},
  ["tensor:__mul"] = {A.t, one_of(A.t, A.f)}, ["tensor:__div"] = {one_of(A.t, A.f), A.t},
  ["model:__index"] = {A.m, from({V("layers", "'layers'"), V("stop_training", "'stop'"),
                                  V("name", "'name'"), V("fit", "'fit'")})},
  ["model:__newindex"] = {A.m, from({V("stop_training", "'stop'"), V("name", "'name'"),
                                     V("layers", "'layers'")}), A.hostile},
  ["layer:__index"] = {A.l, A.name},
  ["history:plot"] = {function() return P.hist[1] and pick(P.hist) or A.hostile() end,
                      A.plot_opts},
  ["history:last"] = {function() return P.hist[1] and pick(P.hist) or A.hostile() end,
                      A.name},
  ["callback:on_epoch_end"] = {A.n, A.logs}, ["callback:on_batch_end"] = {A.n, A.logs},
  ["callback:on_train_begin"] = {A.logs}, ["callback:on_train_end"] = {A.logs},
  ["callback:on_epoch_begin"] = {A.n, A.logs},
}

-- The first argument of a method of objects of kind k.
local self_of = {
  tensor = A.t, model = A.m, layer = A.l,
  optimizer = function() return pick(P.opt) end,
  history = function() return P.hist[1] and pick(P.hist) or A.hostile() end,
  session = function() return P.session[1] and pick(P.session) or A.hostile() end,
}

-- Replaces one argument by a hostile value, or one entry of an option
-- table argument by a hostile value under a known option key.
local function mutate(args)
  local n = args.n
  local i = random(math.max(n, 1) + (random(4) == 1 and 1 or 0))
  local cur = args[i]
  if cur and type(cur.v) == "table" and debug.getmetatable(cur.v) == nil and random(2) == 1 then
    local copy = {}
    for k, v in next, cur.v do copy[k] = v end
    local key = random(5) == 1 and random(3) or pick(option_keys)
    local e = A.hostile()
    copy[key] = e.v
    args[i] = V(copy, cur.d .. "+{" .. tostring(key) .. "=" .. e.d .. "}")
  else
    args[i] = A.hostile()
    if i > n then args.n = i end
  end
end

-- Keeps the calls of known bugs (see `known`) away from them.
local function avoid_known(e, args)
  if known.hist_width and e.short == "hist" and args.n >= 1 then
    args[1] = P.tensor[random(1, 13)] -- the pool's own, not results kept
  end
  if known.huge_label and e.short == "confusion" and args.n >= 3 then
    args[3] = P.tensor[random(7, 8)]
  end
end

local function make_args(e)
  local args = {n = 0}
  local t = tpl[tostring(e.kind) .. ":" .. e.short] or tpl[e.short]
  local r = random(100)
  if t and r <= 70 then
    -- Methods and their nn.* forms share a template (model first). A
    -- template is a list of generators, or a function making the list.
    if type(t) == "function" then
      local list = t()
      for i = 1, #list do args[i] = list[i] end
      args.n = #list
    else
      for i = 1, #t do args[i] = t[i]() end
      args.n = #t
    end
    if r > 28 then
      for _ = 1, (r > 53 and random(2, 3) or 1) do mutate(args) end
    end
  else
    local n = random(0, 5)
    for i = 1, n do args[i] = A.hostile() end
    args.n = n
    if e.kind and self_of[e.kind] and random(2) == 1 then
      args[1] = self_of[e.kind]()
      if args.n == 0 then args.n = 1 end
    end
  end
  avoid_known(e, args)
  return args
end

------------------------------------------------------------------------
-- Running calls.
------------------------------------------------------------------------
local stats = {ok = 0, err = 0, interrupted = 0, hang = 0, yielded = 0}
local failures = {}
local budget = 0
local function hook()
  budget = budget - 1
  if budget < 0 then
    budget = HOOK_BUDGET -- let the error unwind
    error(HANG, 0)
  end
end

local function errtext(e)
  if type(e) == "string" then return e end
  return "<" .. type(e) .. ">"
end

local function describe(e, args)
  local d = {}
  for i = 1, args.n do d[i] = args[i] and args[i].d or "nil" end
  local s = e.name .. "(" .. table.concat(d, ", ") .. ")"
  return (s:gsub("[%c]", "?"))
end

-- Keeps small tensors and models that calls return, so later calls see
-- values the API made (not only the pool's).
local function keep(results, d)
  for i = 1, math.min(results.n, 2) do
    local v = results[i]
    if type(v) == "userdata" then
      local mt = debug.getmetatable(v)
      local name = type(mt) == "table" and rawget(mt, "__name")
      if name == "nn.Tensor" and #P.tensor < 60 then
        local ok, n = pcall(v.numel, v)
        if ok and type(n) == "number" and n <= 256 then P.tensor[#P.tensor + 1] = V(v, d) end
      elseif name == "nn.Model" and #P.model < 20 then
        P.model[#P.model + 1] = V(v, d)
      elseif name == "nn.Layer" and #P.layer < 30 then
        P.layer[#P.layer + 1] = V(v, d)
      elseif name == "nn.plot.Session" and #P.session < 4 then
        P.session[#P.session + 1] = V(v, d)
      end
    end
  end
end

local depth = 0
local index = FIRST_ROUND * ROUND_CALLS

local function run(e, args, top)
  local fn = e.fn
  local vals = {}
  for i = 1, args.n do vals[i] = args[i] and args[i].v end
  local n = args.n
  local in_co = top and random(10) == 1
  local results
  if top then budget = HOOK_BUDGET end
  if in_co then
    local co = coroutine.create(function() return fn(unpack(vals, 1, n)) end)
    debug.sethook(co, hook, "", HOOK_STEP)
    results = pack(coroutine.resume(co))
    if results[1] and coroutine.status(co) == "suspended" then
      stats.yielded = stats.yielded + 1
    end
    debug.sethook(co)
  else
    if top then debug.sethook(hook, "", HOOK_STEP) end
    results = pack(pcall(fn, unpack(vals, 1, n)))
    if top then debug.sethook() end
  end
  return results
end

function call_random()
  depth = depth + 1
  local e = pick(entries)
  if gc_of[e.fn] and random(20) ~= 1 then e = pick(entries) end
  local args = make_args(e)
  pcall(run, e, args, false)
  depth = depth - 1
end

local function one_call()
  index = index + 1
  local e = pick(entries)
  -- __gc/__close destroy pool objects: call them less often.
  if gc_of[e.fn] and random(20) ~= 1 then e = pick(entries) end
  local args = make_args(e)
  local d = describe(e, args)
  report("C " .. index .. " " .. d)
  if VERBOSE then io.stderr:write("call ", index, ": ", d, "\n") end
  local t_call = VERBOSE and nn.clock()
  running_call = e
  local results = run(e, args, true)
  running_call = nil
  report("D")
  if VERBOSE then io.stderr:write(string.format("  %.3f s\n", nn.clock() - t_call)) end
  local ok = results[1]
  if VERBOSE then
    io.stderr:write("  -> ", ok and "ok" or ("error: " .. errtext(results[2]):sub(1, 300)), "\n")
  end
  if ok then
    stats.ok = stats.ok + 1
    table.remove(results, 1)
    results.n = results.n - 1
    keep(results, e.short .. "() result")
  else
    local msg = errtext(results[2])
    if msg == HANG or msg:find(HANG, 1, true) then
      stats.hang = stats.hang + 1
      if #failures < 20 then
        failures[#failures + 1] = "call " .. index .. " ran over " ..
                                  HOOK_BUDGET * HOOK_STEP .. " Lua instructions: " .. d
      end
      report("F hang " .. index .. " " .. d)
    elseif msg:find("interrupted!$") then
      stats.interrupted = stats.interrupted + 1
    else
      stats.err = stats.err + 1
      learn_options(msg)
    end
  end
end

------------------------------------------------------------------------
-- Main loop: rounds of ROUND_CALLS calls, each with a fresh pool.
------------------------------------------------------------------------
math.randomseed(SEED, FIRST_ROUND)
nn.seed(SEED + FIRST_ROUND)
make_files()
build_pool()
-- Which tables hold methods of which kind of object: the metatables in
-- the registry (every luaL_newmetatable of the binding) and those of the
-- objects of the pool, with their method tables.
local function mark(mt, kind)
  if type(mt) ~= "table" then return end
  kind_of_table[mt] = kind
  for _, k in ipairs({"__index", "__methods", "methods"}) do
    local sub = rawget(mt, k)
    if type(sub) == "table" then kind_of_table[sub] = kind end
  end
end
local registry_kinds = {["nn.Tensor"] = "tensor", ["nn.Model"] = "model",
                        ["nn.Layer"] = "layer", ["nn.plot.Session"] = "session"}
local metatables = {}
for name, mt in next, debug.getregistry() do
  if type(name) == "string" and name:match("^nn[.]") and type(mt) == "table" then
    metatables[#metatables + 1] = name
    mark(mt, registry_kinds[name] or name)
  end
end
table.sort(metatables)
mark(debug.getmetatable(P.opt[1].v), "optimizer")
if P.hist[1] then mark(debug.getmetatable(P.hist[1].v), "history") end
walk(nn, "nn", nil, 0, {})
for _, name in ipairs(metatables) do
  local mt = debug.getregistry()[name]
  walk(mt, name, kind_of_table[mt], 0, {})
end
walk_object(P.opt[1].v, "optimizer", "optimizer")
for _, c in ipairs(P.cb) do walk_object(c.v, "callback." .. c.d, "callback") end
if P.hist[1] then walk_object(P.hist[1].v, "history", "history") end
table.sort(entries, function(a, b) return a.name .. tostring(a.kind) < b.name .. tostring(b.kind) end)
report("N " .. #entries)
if VERBOSE then
  for _, e in ipairs(entries) do io.stderr:write("function ", e.name, "\n") end
end

-- After each round: a fresh model must still compile, fit and predict
-- (no global state left broken by a failed call, e.g. "already running").
local function check_sane(after)
  local ok, err = pcall(function()
    local m = nn.Sequential{nn.Dense(2, {input_dim = 2, activation = "relu"}), nn.Dense(1)}
    m:compile{loss = "mse", optimizer = "sgd"}
    local h = m:fit(nn.rand(4, 2), nn.rand(4, 1), {epochs = 1, verbose = 0})
    assert(#h.history.loss == 1, "no epoch recorded")
    assert(m:predict(nn.rand(3, 2)):numel() == 3, "predict")
  end)
  if not ok then
    local msg = "after call " .. after .. " a fresh model no longer trains: " .. errtext(err)
    if #failures < 20 then failures[#failures + 1] = msg end
    report("F broken " .. msg)
  end
end

local t0 = os.clock()
local round = FIRST_ROUND
local done = 0
local function rounds()
  while done < NCALLS do
    if done % ROUND_CALLS == 0 and done > 0 then
      check_sane(index)
      round = round + 1
      math.randomseed(SEED, round)
      nn.seed(SEED + round)
      if round % 20 == 0 then make_files() end
      build_pool()
      collectgarbage()
    end
    one_call()
    done = done + 1
  end
end
-- A Ctrl-C from the driver that lands between two calls (rather than in
-- one) raises here: go on with the next call.
-- Memory can run out between calls too (the limits the driver sets are
-- reached by legitimately huge tensors not yet collected): collect, go on.
while true do
  local ok, err = pcall(rounds)
  if ok then break end
  local msg = errtext(err)
  if msg:find("interrupted!$") then
    stats.interrupted = stats.interrupted + 1
  elseif msg:find("not enough memory", 1, true) then
    stats.memory = (stats.memory or 0) + 1
  else
    error(err, 0)
  end
  if VERBOSE then io.stderr:write(msg, " between calls, after call ", index, "\n") end
  report("D")
  done = done + 1
  P = nil
  collectgarbage()
  build_pool() -- it may have been stopped in the middle of a rebuild
end
debug.sethook()
P = nil
collectgarbage()
collectgarbage()
pcall(nn.plot._settle)

for _, f in ipairs(failures) do io.stderr:write("hostile: ", f, "\n") end
local skipped = {}
for k in pairs(known) do skipped[#skipped + 1] = k end
table.sort(skipped)
local denied = {}
for k in pairs(deny) do denied[#denied + 1] = k end
table.sort(denied)
report(string.format("END calls=%d functions=%d ok=%d errors=%d interrupted=%d "
                     .. "out_of_memory_between_calls=%d "
                     .. "coroutine_yields=%d over_budget=%d cpu=%.1fs known_bugs_avoided=%s denied=%s",
                     done, #entries, stats.ok, stats.err, stats.interrupted, stats.memory or 0,
                     stats.yielded, stats.hang, os.clock() - t0,
                     #skipped > 0 and table.concat(skipped, ",") or "none",
                     #denied > 0 and table.concat(denied, ",") or "none"))
if #failures > 0 then error(#failures .. " failures (see above)", 0) end
