-- Run by tests/test_fit_sigint.c under a pseudo-terminal: a long fit that
-- the test interrupts with Ctrl-C. arg[1] is the mode:
--   tty, kill  one Ctrl-C (the terminal's, or kill -INT) during fit: fit
--              returns the history so far, says it was interrupted, and
--              the model keeps the weights of its last step
--   stuck      a callback that never returns, then two Ctrl-C: the second
--              stops the callback; fit fails with that error and the model
--              stays usable
-- In every mode, once fit has returned, Ctrl-C interrupts Lua code again
-- (fit's handler is gone). Lines in capitals are what the test reads.
local mode = arg[1]
nn.seed(1)
local x, y = nn.rand(256, 8), nn.rand(256, 1)
local m = nn.Sequential{nn.Dense(16, {input_dim = 8, activation = "relu"}), nn.Dense(1)}
m:compile{loss = "mse", optimizer = "adam"}

local function values(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = t:totable() end
  return out
end
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  if #a ~= #b then return false end
  for i = 1, #a do if not same(a[i], b[i]) then return false end end
  return true
end
local function finite(a)
  if type(a) == "table" then
    for i = 1, #a do if not finite(a[i]) then return false end end
    return true
  end
  return a == a and a ~= math.huge and a ~= -math.huge
end

local initial = values(m:get_weights())
local snap -- the weights after the last training step
local cb = {
  on_batch_end = function() snap = values(m:get_weights()) end,
  on_epoch_end = function(e)
    if e == 3 then
      io.write("FIT STARTED\n")
      io.flush()
      if mode == "stuck" then while true do end end
    end
  end,
}
local ok, h = pcall(m.fit, m, x, y, {epochs = 1000000, batch_size = 32, callbacks = {cb}})
if mode == "stuck" then
  print("FIT FAILED " .. tostring(not ok) .. ": " .. tostring(h))
  local w = values(m:get_weights())
  print("FINITE " .. tostring(finite(w)))
  local h2 = m:fit(x, y, {epochs = 1, verbose = 0})
  print("USABLE " .. #h2.history.loss)
else
  if not ok then print("FIT ERROR " .. tostring(h)) os.exit(3) end
  local w = values(m:get_weights())
  print("EPOCHS " .. #h.history.loss .. " INTERRUPTED " .. tostring(h.interrupted))
  print("WEIGHTS KEPT " .. tostring(same(w, snap)) .. " TRAINED " ..
        tostring(not same(w, initial)) .. " FINITE " .. tostring(finite(w)))
  print("PREDICT " .. m:predict(x):numel())
end
io.write("READY FOR SECOND\n")
io.flush()
local ok2, e2 = pcall(function() while true do end end)
print("SECOND " .. tostring(e2))
