-- examples/spiral.lua runs (a few seconds), learns the three spirals and
-- writes its decision-boundary animation: a GIF with one frame for every
-- other epoch of its 60 (30 frames, counted from the GIF's blocks).
local H = dofile("helper.lua")
local check = H.check
local read_gif = dofile("lib/gif.lua")

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local here = io.popen("pwd"):read("l")

H.test("examples/spiral.lua", function()
  local p = io.popen("command -v gnuplot")
  local gnuplot = p:read("l") ~= nil
  p:close()
  if not gnuplot then print("test_example_spiral: no gnuplot, skipped"); return end
  local dir = os.tmpname()
  os.remove(dir)
  local cmd = string.format("'%s' '%s/../../examples/spiral.lua' '%s/gifs' 2>&1", bin, here, dir)
  p = io.popen(cmd)
  local out = p:read("a")
  local ok = p:close()
  check(ok, "spiral.lua failed:\n" .. out)
  check(not out:find("Animate:", 1, true), "no warning: " .. out)
  local acc = tonumber(out:match("spiral: loss [%d.]+, accuracy ([%d.]+)"))
  check(acc and acc >= 0.9, "the spirals are learned (>= 90%): " .. out)
  local f = assert(io.open(dir .. "/gifs/spiral.gif", "rb"), "the GIF is in the output dir")
  local s = f:read("a")
  f:close()
  local g = read_gif(s)
  check(g.frames == 30 and g.trailer, "30 frames: " .. g.frames)
  check(out:find("30 frames", 1, true), out)
  os.execute("rm -rf '" .. dir .. "'")
  print(string.format("spiral accuracy %.4f", acc))
end)
H.done()
