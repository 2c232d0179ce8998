-- Training throughput and peak memory of nnlua on the Fashion-MNIST CNN of
-- issue 12 (the peer of bench/train_cnn_torch.py):
--   Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu) ->
--   MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dense(10, softmax),
-- Adam, batch 128, sparse categorical cross-entropy, channels last
-- {n, 28, 28, 1} (random data of that shape when Fashion-MNIST is not
-- installed). Same rules as the peer (docs/performance.md, "Fair peers"):
-- data loading and model construction untimed, BENCH_WARMUP (default 10)
-- untimed warm-up batches, then one timed epoch (model:fit, verbose = 0,
-- wall time from nn.clock()) over the first [samples] training images, no
-- metric. Prints one line in bench/train.sh's format:
--   nnlua-cnn threads=<n> data=<...> samples=<N> seconds=<s> samples_per_s=<r> cpu_s=<c> loss=<l> maxrss_kb=<k> rss_data_kb=<k> rss_eval_kb=<k> train_flops_per_sample=<f>
-- maxrss_kb is the process's peak resident set (VmHWM, what getrusage's
-- ru_maxrss gives the peer) at the end of training, before the untimed
-- evaluation of the loss (batches of 1024, whose buffers are 8x a
-- training batch's); rss_data_kb the same once the data are loaded;
-- rss_eval_kb the peak at the end, evaluation included. Without nn.Conv2D (an nnlua before the convolution layers)
-- it prints "nnlua-cnn skipped: ..." and exits 0.
-- Usage: nnlua bench/train_cnn.lua [threads] [samples]
local threads = tonumber(arg and arg[1]) or 1
local samples = tonumber(arg and arg[2]) or 12800
local warmup = tonumber(os.getenv("BENCH_WARMUP") or "10")
local BS = 128

-- FLOPs per training sample of the conv and dense products, the count of
-- bench/train_cnn_torch.py: a layer's product as a GEMM (conv: M = output
-- pixels, N = filters, K = kh * kw * cin) costs 2 M N K forward, as much
-- again for dW and for dX, except the first layer's dX, which nobody needs.
local function train_flops()
  local h, c, total, first = 28, 1, 0, true
  for _, f in ipairs{32, 64} do
    local o = h - 3 + 1
    local mnk = 2 * o * o * f * 3 * 3 * c
    total = total + mnk * (first and 2 or 3)
    first = false
    h, c = o // 2, f
  end
  for _, ab in ipairs{{h * h * c, 128}, {128, 10}} do
    total = total + 3 * 2 * ab[1] * ab[2]
  end
  return total
end

if nn.Conv2D == nil or nn.MaxPooling2D == nil then
  print(string.format("nnlua-cnn skipped: nn.Conv2D is nil in this nnlua (pending Conv2D) train_flops_per_sample=%d",
                      train_flops()))
  return
end

nn.threads(threads)
nn.seed(1)
local wall = nn.clock

local function vmhwm_kb()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or -1
end

local x, y, source
-- Only the training half, as the peer reads only the training files: the
-- test images would add 31 MB to nnlua's peak RSS and nothing to the peer's.
local ok, d = pcall(nn.data.fashion_mnist, {flatten = false, split = "train"})
if not ok and tostring(d):find("split", 1, true) then -- an nnlua before opts.split
  ok, d = pcall(nn.data.fashion_mnist, {flatten = false})
end
if ok then
  x, y, source = d.x_train, d.y_train, "fashion"
  -- {n, 784} or {n, 28, 28} from an nnlua before flatten = false gave
  -- {n, 28, 28, 1}: the same bytes.
  if x:dim() < 4 then x = x:reshape(#x, 28, 28, 1) end
else
  x = nn.rand(60000, 28, 28, 1)
  y = nn.rand(60000):map(function(v) return math.floor(v * 10) + 1 end)
  source = "random"
end
samples = math.min(samples, #x)
local xs, ys = x:rows(1, samples), y:rows(1, samples) -- views
local rss_data = vmhwm_kb()

local model = nn.Sequential()
model:add(nn.Conv2D(32, 3, {activation = "relu", input_shape = {28, 28, 1}}))
model:add(nn.MaxPooling2D(2))
model:add(nn.Conv2D(64, 3, {activation = "relu"}))
model:add(nn.MaxPooling2D(2))
model:add(nn.Flatten())
model:add(nn.Dense(128, {activation = "relu"}))
model:add(nn.Dense(10, {activation = "softmax"}))
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}

if warmup > 0 then
  local w = math.min(warmup * BS, samples)
  model:fit(xs:rows(1, w), ys:rows(1, w), {epochs = 1, batch_size = BS, verbose = 0})
end
local t0, c0 = wall(), os.clock()
model:fit(xs, ys, {epochs = 1, batch_size = BS, verbose = 0})
local secs, cpu = wall() - t0, os.clock() - c0
local rss_train = vmhwm_kb()
local loss = model:evaluate(xs, ys, {batch_size = 1024})
print(string.format("nnlua-cnn threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f cpu_s=%.3f loss=%.4f maxrss_kb=%d rss_data_kb=%d rss_eval_kb=%d train_flops_per_sample=%d",
                    threads, source, samples, secs, samples / secs, cpu, loss, rss_train, rss_data, vmhwm_kb(),
                    train_flops()))
