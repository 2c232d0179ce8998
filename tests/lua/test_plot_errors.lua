-- nn.plot with wrong arguments: every public function, called with every
-- combination of odd values, either works or raises a Lua error that names
-- the function; never a crash. Rendering is off (render = false), so this
-- needs no gnuplot. Also: LivePlot drawing text to standard output.
local H = dofile("helper.lua")
local check = H.check

local base = os.tmpname()
local gp, png = base .. ".gp", base .. ".png"

nn.seed(3)
local model = nn.Sequential({nn.Dense(2, {input_dim = 2, activation = "relu"}),
                             nn.Dense(3, {activation = "softmax"})})
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}

local odd = {
  false, 0, -1, 1e300, 0 / 0, "", "x", {}, {1}, {0 / 0, 1}, {"a"}, {{}}, {{1, 2}, {3}},
  nn.zeros(1), nn.ones(3, 2), nn.tensor({{0 / 0, 1}, {2, math.huge}}), nn.zeros(2, 2, 2),
  {history = {}}, {history = {loss = {1, 2}}}, {history = {loss = "x"}}, model,
  model.layers[1], print, {image = {0, 0}}, {image = {"a"}},
}

-- Each function and the position of its options table.
local fns = {history = 2, lines = 3, scatter = 3, hist = 2, weights = 2, confusion = 4,
             decision_boundary = 4, model = 2}
local names = {}
for name in pairs(fns) do names[#names + 1] = name end
table.sort(names)
local calls, errors = 0, 0
for _, name in ipairs(names) do
  local f, at = nn.plot[name], fns[name]
  for i = 0, #odd do
    for j = 0, #odd, 3 do
      -- data arguments: odd values, and the real model where one is expected
      local args = {odd[i], odd[j], odd[i]}
      if at == 4 and j % 2 == 0 then args = {model, odd[i], odd[j]} end
      args[at] = {render = false, script = gp, file = png}
      local ok, err = pcall(f, table.unpack(args, 1, at))
      calls = calls + 1
      if not ok then
        errors = errors + 1
        err = tostring(err)
        check(err:find("nn.plot." .. name, 1, true) or err:find("bad argument", 1, true) or
              err:find("nn.Tensor", 1, true) or err:find("tensor", 1, true) or
              err:find("predict", 1, true),
              name .. ": unexpected message: " .. err)
      end
    end
  end
end
check(errors > 0 and errors < calls, "some calls fail, some work")

-- Options are checked before anything else, with messages naming them.
for _, name in ipairs(names) do
  local args = {}
  args[fns[name]] = {width = "wide"}
  local ok, err = pcall(nn.plot[name], table.unpack(args, 1, fns[name]))
  check(not ok and tostring(err):find("option 'width' must be a number", 1, true),
        name .. ": " .. tostring(err))
  args[fns[name]] = 5
  ok, err = pcall(nn.plot[name], table.unpack(args, 1, fns[name]))
  check(not ok and tostring(err):find("options must be a table", 1, true),
        name .. ": " .. tostring(err))
end

-- Many series at once (each keeps arrays on the Lua stack in C).
do
  local list, hist = {}, {history = {}}
  for i = 1, 1000 do
    list[i] = {i, i + 1}
    hist.history["m" .. i] = {1, 2}
  end
  nn.plot.lines(nil, list, {render = false, script = gp, file = png})
  nn.plot.history(hist, {render = false, script = gp, file = png})
  list[1001] = {1}
  H.checkerr("1001 lines (expected 1..1000)", nn.plot.lines, nil, list,
             {render = false, file = png})
  local layers = {nn.Dense(2, {input_dim = 2})}
  for i = 2, 150 do layers[i] = nn.Dense(2) end
  nn.plot.model(nn.Sequential(layers), {render = false, script = gp, file = png})
end

-- Pixel sizes are checked, and reported as given.
H.checkerr("option 'width' (pixels) must be an integer in 100..20000, got 5", nn.plot.hist,
           {1, 2}, {width = 5, render = false, file = png})
H.checkerr("option 'height' (pixels) must be an integer in 100..20000, got 4294967396",
           nn.plot.hist, {1, 2}, {height = 2^32 + 100, render = false, file = png})

-- LivePlot without a file draws text to standard output, in one gnuplot
-- process, when gnuplot is installed (a child nnlua, output captured).
local bin = os.getenv("NNLUA_BIN")
local has_gnuplot = false
do
  local p = io.popen("command -v gnuplot")
  has_gnuplot = p:read("l") ~= nil
  p:close()
end
if bin and has_gnuplot then
  -- wait: the program waits for the last frame, so it comes before what
  -- it prints next; without: fit returns first, and the end of the
  -- program waits for the frame, so it is not lost.
  local function run(wait)
    local cmd = "unset DISPLAY WAYLAND_DISPLAY; COLUMNS=90 '" .. bin .. "' -e \"" ..
      "nn.seed(1); local m = nn.Sequential({nn.Dense(1, {input_dim = 1})}); " ..
      "m:compile{loss = 'mse', optimizer = 'sgd'}; " ..
      "local lp = nn.callbacks.LivePlot{title = 'live text'}; " ..
      "m:fit(nn.tensor({{1}, {2}}), nn.tensor({{1}, {2}}), " ..
      "{epochs = 4, verbose = 0, callbacks = {lp}}); " ..
      (wait and "assert(lp:wait()); " or "") ..
      "print('fit done')\" 2>&1"
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    return out
  end
  local out = run(true)
  check(out:find("live text", 1, true), "a text chart: " .. out)
  check(out:find("epoch", 1, true), "with its axis label: " .. out)
  local last_chart = 0
  for pos in out:gmatch("()live text") do last_chart = pos end
  check(last_chart < out:find("fit done", 1, true), "last frame before what follows wait")
  check(not out:find("LivePlot:", 1, true), "no warning: " .. out)
  out = run(false)
  check(out:find("fit done", 1, true), out)
  check(out:find("live text", 1, true), "the last frame is drawn before the program ends: " .. out)
  local _, charts = out:gsub("live text", "")
  check(charts == 1, "a 4-epoch fit draws one frame: " .. out)
end

os.remove(gp)
os.remove(png)
os.remove(base)
print(string.format("test_plot_errors: ok (%d calls, %d errors)", calls, errors))
