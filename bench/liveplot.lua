-- What nn.callbacks.LivePlot costs a training: the fit of
-- examples/digits.lua (64-64-10 with dropout, Adam, batch 32, 30 epochs,
-- 10% validation), timed with and without a LivePlot, in alternating
-- pairs in this one process. Prints the median fit time of each and the
-- overhead: the median over the pairs of (with / without) - 1. Kinds: screen (no file: a window when
-- $DISPLAY is set and gnuplot has a window terminal, else text on stdout),
-- txt (a file), png (a file);
-- opts.interval 1 (the default) and 0 (a frame after every epoch, the
-- worst case), and the same for a 10x longer fit (300 epochs).
--
--   nnlua bench/liveplot.lua [runs=15] > /dev/null
--   DISPLAY=:99 nnlua bench/liveplot.lua   (windows, e.g. under Xvfb :99
--                                           with Debian's gnuplot-x11)
--
-- The table goes to stderr so that text frames can go to /dev/null. A
-- fit ends when fit returns; the last frame is drawn after, in the
-- background, and each run waits for it (outside the timing) so runs do
-- not overlap.
local runs = tonumber(arg and arg[1]) or 15
local out = io.stderr

nn.seed(1)
local x, y = nn.data.digits()
x = x / 16
local x_train, y_train = nn.data.split(x, y, 0.8)

local function model()
  local m = nn.Sequential({
    nn.Dense(64, {input_dim = 64, activation = "relu"}),
    nn.Dropout(0.2),
    nn.Dense(10, {activation = "softmax"}),
  })
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
            metrics = {"accuracy"}}
  return m
end

local function median(t)
  table.sort(t)
  local n = #t
  return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

local dir = os.tmpname()
os.remove(dir)
local made = {}
local function live(kind, interval)
  if kind == "none" then return nil end
  local opts = {title = "digits", interval = interval}
  if kind ~= "screen" then
    opts.file = dir .. "." .. kind
    made[opts.file] = true
  end
  return nn.callbacks.LivePlot(opts)
end

local function time_fit(epochs, lp)
  local m = model()
  local t0 = nn.clock()
  m:fit(x_train, y_train, {epochs = epochs, batch_size = 32, validation_split = 0.1,
                           verbose = 0, callbacks = {lp}})
  local t = nn.clock() - t0
  if lp then
    local ok, err = lp:wait()
    assert(ok, err)
  end
  return t
end

out:write(string.format("LivePlot overhead on the digits fit (%s, %d threads), median of %d\n",
                        nn.cpu().isa, nn.cpu().threads, runs))
out:write(string.format("screen: %s\n", os.getenv("DISPLAY") and
  ("DISPLAY=" .. os.getenv("DISPLAY") .. ": a window if gnuplot has a window terminal")
  or "no DISPLAY: text on stdout"))
out:write(string.format("%-8s %-7s %8s %12s %12s %10s\n", "epochs", "kind", "interval",
                        "fit ms", "with ms", "overhead"))
for _, epochs in ipairs({30, 300}) do
  for _, case in ipairs({{"screen", 1}, {"screen", 0}, {"txt", 1}, {"txt", 0},
                         {"png", 1}, {"png", 0}}) do
    local kind, interval = case[1], case[2]
    local plain, with, ratio = {}, {}, {}
    time_fit(epochs, nil) -- warm up
    for i = 1, runs do
      -- Pairs in alternating order, so a slow spell of this shared
      -- machine hits both sides alike; the overhead is the median of the
      -- per-pair ratios (as bench/gemm does), steadier than a ratio of
      -- medians.
      local a, b
      if i % 2 == 1 then
        a = time_fit(epochs, nil)
        b = time_fit(epochs, live(kind, interval))
      else
        b = time_fit(epochs, live(kind, interval))
        a = time_fit(epochs, nil)
      end
      plain[#plain + 1], with[#with + 1], ratio[#ratio + 1] = a, b, b / a
    end
    out:write(string.format("%-8d %-7s %8g %12.2f %12.2f %9.1f%%\n", epochs, kind, interval,
                            median(plain) * 1e3, median(with) * 1e3,
                            100 * (median(ratio) - 1)))
  end
end
for f in pairs(made) do os.remove(f) end
