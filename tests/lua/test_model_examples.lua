-- The examples under examples/ run (each in seconds) and reach their
-- figures: xor 100%, iris and digits at least 95% held-out accuracy, the
-- regression close to the clean sine; seed.lua runs when nn.plot exists.
local H = require "helper"
local check = H.check

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local here = io.popen("pwd"):read("l")
local examples = here .. "/../../examples/"

local function run(name, dir)
  local cmd = string.format("%s'%s' '%s%s.lua' 2>&1", dir and ("cd '" .. dir .. "' && ") or "",
                            bin, examples, name)
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok, _, code = p:close()
  check(ok, name .. ".lua failed (" .. tostring(code) .. "):\n" .. out)
  return out
end

local out = run("xor")
local acc = tonumber(out:match("accuracy ([%d.]+)"))
check(acc == 1, "xor learns to 100%: " .. out)

out = run("iris")
acc = tonumber(out:match("accuracy ([%d.]+)"))
check(acc and acc >= 0.95, "iris >= 95%: " .. out)
print(string.format("iris held-out accuracy %.4f", acc))

out = run("digits")
acc = tonumber(out:match("digits: held%-out loss [%d.]+, accuracy ([%d.]+)"))
check(acc and acc >= 0.95, "digits >= 95%: " .. out)
check(out:find("Epoch 30/30", 1, true), "per-epoch lines when not on a terminal")
print(string.format("digits held-out accuracy %.4f", acc))

out = run("regression")
local mse = tonumber(out:match("mse vs the clean sine ([%d.]+)"))
check(mse and mse < 0.05, "regression fits the sine: " .. out)

if nn.plot and nn.plot.history and nn.plot.model then
  local dir = os.tmpname()
  os.remove(dir)
  check(os.execute("mkdir '" .. dir .. "'"), "temp dir")
  out = run("seed", dir)
  check(out:find("Epoch 10/10", 1, true), "seed example trains 10 epochs: " .. out)
  H.check_png(dir .. "/loss.png")
  H.check_png(dir .. "/model.png")
  os.execute("rm -rf '" .. dir .. "'")
else
  print("seed.lua skipped: nn.plot is not in this build yet")
end
print("test_model_examples: ok")
