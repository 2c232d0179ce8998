-- fit's progress output, from a child nnlua: verbose=1 is Keras's bar
-- ("Epoch 2/3", then "N/N [====] - time per-step/step - loss: ..."),
-- drawn in place with \r and batch counters and an ETA only on a
-- terminal (checked under script(1) when it is installed); verbose=2 one
-- line per epoch with its time; the default is 2 when stdout is not a
-- terminal; verbose=0 prints nothing.
local H = require "helper"
local check = H.check

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local script = os.tmpname()

local function run(verbose, tty)
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
nn.seed(1)
local m = nn.Sequential{nn.Dense(8, {input_dim = 4, activation = "relu"}),
                        nn.Dense(1, {activation = "sigmoid"})}
m:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
m:fit(nn.rand(4000, 4), nn.rand(4000, 1), {epochs = 3, batch_size = 10,
      validation_split = 0.1, verbose = %s,
      callbacks = {{on_batch_end = function(b)
        if b %% 40 == 0 then local t = os.clock() + 0.003 while os.clock() < t do end end
      end}}})
]], verbose == nil and "nil" or tostring(verbose)))
  f:close()
  local cmd = string.format("'%s' '%s' 2>&1", bin, script)
  if tty then
    cmd = string.format("script -qec \"'%s' '%s'\" /dev/null 2>&1", bin, script)
  end
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  check(ok, "child failed:\n" .. out)
  return out
end

local keys = " %- loss: [%d.]+ %- accuracy: [%d.]+ %- val_loss: [%d.]+ %- val_accuracy: [%d.]+"

-- verbose = 1, not a terminal: no \r, no ETA, one final bar per epoch.
local out = run(1)
check(not out:find("\r", 1, true) and not out:find("ETA", 1, true), "no redraws: " .. out)
local n = 0
for e, bar in out:gmatch("Epoch (%d)/3\n([^\n]*)\n") do
  n = n + 1
  check(tonumber(e) == n, "epoch " .. n)
  check(bar:match("^360/360 %[" .. ("="):rep(30) .. "%] %- %d+m?s %d+[mu]?s/step" .. keys .. "$"),
        "bar line: '" .. bar .. "'")
end
check(n == 3, "3 epochs with bars: " .. out)

-- verbose = 2 and the default off a terminal: a line per epoch.
for _, v in ipairs({2, false}) do
  out = run(v or nil)
  local lines = 0
  for line in out:gmatch("[^\n]+") do
    lines = lines + 1
    check(line:match("^Epoch " .. lines .. "/3 %- %d+m?s" .. keys .. "$"), "line: " .. line)
  end
  check(lines == 3, "3 lines: " .. out)
end

-- verbose = 0: silent.
check(run(0) == "", "verbose 0 prints nothing")

-- On a terminal (script(1) gives the child one): the bar is redrawn in
-- place with \r, shows batch counters and an ETA, and ends each epoch with
-- the full bar on its own line; the default is verbose 1 there.
if os.execute("command -v script >/dev/null 2>&1") then
  out = run(nil, true)
  check(out:find("Epoch 1/3", 1, true), "default on a terminal is the bar: " .. out)
  check(out:find("\r", 1, true) and out:find(" %- ETA: "), "redrawn with an ETA: " .. out)
  local partial = out:match("\r *(%d+)/360 %[[=>.]+%] %- ETA")
  check(partial and tonumber(partial) < 360, "a batch counter before the end")
  check(out:find("\r360/360 %[" .. ("="):rep(30) .. "%]"), "final bar")
end

os.remove(script)
print("test_model_progress: ok")
