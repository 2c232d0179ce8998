-- examples/gradient_descent.lua and examples/optimizers.lua run (with a
-- temporary output directory as arg[1]), say what they teach, and write
-- their pictures: gradient descent by hand equals nn.optimizers.SGD, a too
-- large learning rate ends higher than a good one, every optimizer ends far
-- below where it started.
local H = require "helper"
local T = H.test
local check = H.check

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local here = io.popen("pwd"):read("l")
local examples = here .. "/../../examples/"

local have_gnuplot = (function()
  local p = io.popen("command -v gnuplot")
  local ok = p:read("l") ~= nil
  p:close()
  return ok
end)()

-- Runs examples/<name>.lua with a fresh output directory; returns its
-- output and the directory (removed by the caller).
local function run(name)
  local dir = os.tmpname()
  os.remove(dir)
  local cmd = string.format("'%s' '%s%s.lua' '%s/pictures' 2>&1", bin, examples, name, dir)
  local p = io.popen(cmd)
  local out = p:read("a")
  local ok, _, code = p:close()
  check(ok, name .. ".lua failed (" .. tostring(code) .. "):\n" .. out)
  return out, dir .. "/pictures", dir
end

local function png_ok(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local data = f:read("a")
  f:close()
  return data:sub(1, 8) == "\137PNG\r\n\26\n" and #data > 2000
end

local function header(name)
  local f = assert(io.open(examples .. name .. ".lua"))
  local text = f:read("a")
  f:close()
  check(text:find("^%-%- Teaches: ") and text:find("\n%-%- Runs in: about %d+ s"),
        name .. ".lua starts with its Teaches and Runs in header")
end

if not have_gnuplot then
  print("gnuplot missing: the surface examples are skipped")
  H.test("skipped", function() end)
  H.done()
  return
end

T("gradient_descent.lua", function()
  header("gradient_descent")
  local out, pics, dir = run("gradient_descent")
  local steps = 0
  for hw1, hw2, ow1, ow2 in out:gmatch("%-> w %(([%d.%-]+), ([%d.%-]+)%)%s+nn.optimizers.SGD: " ..
                                      "%(([%d.%-]+), ([%d.%-]+)%)") do
    steps = steps + 1
    check(hw1 == ow1 and hw2 == ow2, "by hand equals the optimizer: " .. out)
  end
  check(steps == 3, "three steps by hand: " .. out)
  local right = tonumber(out:match("about right%s+lr [%d.]+%s+loss%s+[%d.]+ %-> ([%d.e%-]+)"))
  local large = tonumber(out:match("too large%s+lr [%d.]+%s+loss%s+[%d.]+ %-> ([%d.e%-]+)"))
  check(right and large and large > 10 * right, "a too large lr zigzags and ends higher: " .. out)
  check(png_ok(pics .. "/gd_bowl.png") and png_ok(pics .. "/gd_valley.png"), "two pictures")
  os.execute("rm -rf '" .. dir .. "'")
end)

T("optimizers.lua", function()
  header("optimizers")
  local out, pics, dir = run("optimizers")
  local n = 0
  for name, loss in out:gmatch("\n  (%a+)%s+lr [%d.]+%s+ends at %b()%s+final loss ([%d.e%-]+)") do
    n = n + 1
    check(tonumber(loss) < 0.5, name .. " ends far below the start (" .. loss .. ")")
  end
  check(n == 4, "four optimizers' final losses: " .. out)
  check(out:find("momentum", 1, true) and out:find("rmsprop", 1, true) and
        out:find("adam", 1, true), "sgd, momentum, rmsprop, adam")
  check(png_ok(pics .. "/optimizers.png") and png_ok(pics .. "/optimizers_bowl.png"),
        "two pictures")
  os.execute("rm -rf '" .. dir .. "'")
end)

H.done()
