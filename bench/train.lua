-- Training throughput of nnlua: an MLP 784-256-128-10 (relu, relu, softmax),
-- Adam, batch 128, sparse categorical cross-entropy, over Fashion-MNIST's
-- 60,000 training images (random data of the same shape when the dataset
-- is not installed). Prints one line:
--   nnlua threads=<n> data=<fashion|random> samples=<N> seconds=<s> samples_per_s=<r> cpu_s=<c> loss=<l> maxrss_kb=<k>
-- Same rules as bench/train_torch.py, its peer (docs/performance.md, "Fair
-- peers"): data loading and model construction untimed; BENCH_WARMUP
-- (default 1) untimed warm-up epochs, then [epochs] timed ones (model:fit
-- with verbose = 0, wall time from nn.clock()); no metric unless
-- BENCH_METRICS=accuracy, which compiles with metrics = {"accuracy"} (a
-- per-batch accuracy, as the peer then computes). The loss printed is that
-- of the whole training set after training (model:evaluate, untimed).
-- Usage: nnlua bench/train.lua [threads] [epochs]
local threads = tonumber(arg and arg[1]) or 1
local epochs = tonumber(arg and arg[2]) or 1
local warmup = tonumber(os.getenv("BENCH_WARMUP") or "1")
local metrics = os.getenv("BENCH_METRICS") == "accuracy" and {"accuracy"} or nil
nn.threads(threads)
nn.seed(1)

local wall = nn.clock

local x, y, source
local ok, d = pcall(nn.data.fashion_mnist)
if ok then
  x, y, source = d.x_train, d.y_train, "fashion"
else
  x = nn.rand(60000, 784)
  y = nn.rand(60000):map(function(v) return math.floor(v * 10) + 1 end)
  source = "random"
end

local model = nn.Sequential()
model:add(nn.Dense(256, {input_dim = 784, activation = "relu"}))
model:add(nn.Dense(128, {activation = "relu"}))
model:add(nn.Dense(10, {activation = "softmax"}))
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = metrics}

if warmup > 0 then
  model:fit(x, y, {epochs = warmup, batch_size = 128, verbose = 0})
end
local t0, c0 = wall(), os.clock()
model:fit(x, y, {epochs = epochs, batch_size = 128, verbose = 0})
local secs, cpu = wall() - t0, os.clock() - c0
local loss = model:evaluate(x, y, {batch_size = 1024})
local function maxrss_kb()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or -1
end
local n = #x * epochs
print(string.format("nnlua threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f cpu_s=%.3f loss=%.4f maxrss_kb=%d",
                    threads, source, n, secs, n / secs, cpu, loss, maxrss_kb()))
