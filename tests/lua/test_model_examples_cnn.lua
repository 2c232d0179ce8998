-- The convolutional examples run in their --quick form (seconds) and
-- learn: examples/digits_cnn.lua on the shipped 8x8 digits, and
-- examples/fashion_cnn.lua on Fashion-MNIST, which is skipped with a
-- message when Debian's dataset-fashion-mnist is not installed (the
-- script exits 77 then). The full runs and their accuracies are in
-- docs/data.md.
local H = require "helper"
local check = H.check

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local here = io.popen("pwd"):read("l")
local examples = here .. "/../../examples/"

-- Runs examples/<name>.lua with args; returns its output and exit code.
local function run(name, args)
  local cmd = string.format("'%s' '%s%s.lua' %s 2>&1", bin, examples, name, args or "")
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

local out, code = run("digits_cnn", "--quick")
check(code == 0, "digits_cnn.lua --quick failed (" .. tostring(code) .. "):\n" .. out)
local acc = tonumber(out:match("digits_cnn: held%-out loss [%d.]+, accuracy ([%d.]+)"))
check(acc and acc >= 0.85, "digits_cnn --quick >= 85%: " .. out)
check(out:find("Epoch 5/5", 1, true), "per-epoch lines: " .. out)
print(string.format("digits_cnn --quick held-out accuracy %.4f", acc))

-- Under AddressSanitizer (a Debug build, many times slower) the fashion
-- run trains on 500 images: the same code paths, not the same figure.
local function under_asan()
  local f = io.open("/proc/self/maps")
  if not f then return false end
  local s = f:read("a")
  f:close()
  return s:find("libasan", 1, true) ~= nil
end
local asan = under_asan()

out, code = run("fashion_cnn", asan and "--quick --samples 500" or "--quick")
if code == 77 then
  check(out:find("apt-get install dataset-fashion-mnist", 1, true),
        "the skip says how to install the data: " .. out)
  print("fashion_cnn.lua skipped: Fashion-MNIST is not installed " ..
        "(apt-get install dataset-fashion-mnist, or set NNLUA_DATA)")
else
  check(code == 0, "fashion_cnn.lua --quick failed (" .. tostring(code) .. "):\n" .. out)
  local sizes = asan and "500 training and 125 test" or "4000 training and 1000 test"
  check(out:find(sizes .. " images of 28x28x1, 1 epoch", 1, true), out)
  check(out:find("(None, 5, 5, 64)", 1, true), "the summary is printed: " .. out)
  check(out:find("Epoch 1/1", 1, true), "a progress line: " .. out)
  acc = tonumber(out:match("fashion_cnn: test loss [%d.]+, accuracy ([%d.]+)"))
  check(acc and acc >= (asan and 0.2 or 0.5),
        "fashion_cnn --quick learns (chance is 0.1): " .. out)
  print(string.format("fashion_cnn --quick test accuracy %.4f", acc))
end

-- Without the data the script says how to get it and exits 77, which is
-- what the skip above relies on.
out, code = run("fashion_cnn", "--quick --data /nonexistent-nnlua-data")
check(code == 77 and out:find("apt-get install dataset-fashion-mnist", 1, true),
      "missing data: exit 77 and how to install it (" .. tostring(code) .. "): " .. out)
print("test_model_examples_cnn: ok")
