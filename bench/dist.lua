-- Data-parallel step time of nnlua on the Fashion-MNIST MLP of bench/train.lua
-- (784-256-128-10) or the CNN of bench/train_cnn.lua, the side of
-- bench/dist.sh whose peer is bench/dist_torch.py. Run it as one process
-- (nnlua bench/dist.lua ...) or under mpirun -np N: model:fit then shards
-- every global batch of 128 (BENCH_GLOBAL_BATCH) over the ranks, 128 / N
-- rows each (batch_size = 128 / N, a rank's), with 2 / N threads a rank
-- (BENCH_THREADS_TOTAL), as the peer does.
-- NNLUA_DIST_OVERLAP=0 in the environment starts the gradient buckets only
-- after the backward pass (no overlap), for comparison; NNLUA_DIST_PROGRESS=poll
-- has the main thread start and poll them between layers instead of the
-- progress thread (both read by nnlua; the line says which).
-- Timed: BENCH_WARMUP (10) untimed batches, then BENCH_ROUNDS (5) calls of
-- model:fit (epochs = 1, verbose = 0) over [steps] / rounds batches each,
-- from a barrier to the end of fit on rank 0; a round's step time is its
-- wall time over its batches, and the median over the rounds is printed.
-- nn.dist.stats(true) is read and reset around every round: wait_ms is the
-- time a step spent blocked waiting for its gradient buckets after the
-- backward pass (the exposed communication), reduce_ms the time in the
-- small blocking reductions of the logs, both per step, medians over the
-- rounds; share = wait_ms / step_ms. min_ms is the fastest round's step
-- and best_wait_ms, best_reduce_ms that round's: on a shared machine, load
-- from other jobs only adds time, so the fastest round is the closest to
-- an undisturbed one.
-- Prints one line on rank 0:
--   nnlua-dist model=<mlp|cnn> ranks=<n> threads=<t> batch=<b> global_batch=<g> overlap=<0|1> progress=<thread|poll> steps=<s> step_ms=<m> min_ms=<a> max_ms=<b> wait_ms=<w> reduce_ms=<r> best_wait_ms=<w> best_reduce_ms=<r> buckets_per_step=<k> kb_per_step=<kb> share=<s> loss=<l>
-- (the stats fields are "-" in an nnlua without nn.dist.stats).
-- Usage: [mpirun -np N] nnlua bench/dist.lua [mlp|cnn] [steps]
local what = arg and arg[1] or "mlp"
assert(what == "mlp" or what == "cnn", "bench/dist.lua: mlp or cnn, not '" .. tostring(what) .. "'")
local steps = tonumber(arg and arg[2]) or (what == "mlp" and 200 or 50)
local G = tonumber(os.getenv("BENCH_GLOBAL_BATCH") or "128")
local warmup = tonumber(os.getenv("BENCH_WARMUP") or "10")
local rounds = tonumber(os.getenv("BENCH_ROUNDS") or "5")
local total_threads = tonumber(os.getenv("BENCH_THREADS_TOTAL") or "2")

local dist = nn.dist
local size = dist and dist.size() or 1
local main = not dist or dist.is_main()
local stats = dist and dist.stats
local barrier = dist and dist.barrier or function() end
local threads = math.max(1, total_threads // size)
nn.threads(threads)
nn.seed(1)

local x, y
local cnn = what == "cnn"
local ok, d = pcall(nn.data.fashion_mnist, {flatten = not cnn, split = "train"})
if ok then
  x, y = d.x_train, d.y_train
  if cnn and x:dim() < 4 then x = x:reshape(#x, 28, 28, 1) end
else
  x = cnn and nn.rand(60000, 28, 28, 1) or nn.rand(60000, 784)
  y = nn.rand(60000):map(function(v) return math.floor(v * 10) + 1 end)
end

local model = nn.Sequential()
if cnn then
  model:add(nn.Conv2D(32, 3, {activation = "relu", input_shape = {28, 28, 1}}))
  model:add(nn.MaxPooling2D(2))
  model:add(nn.Conv2D(64, 3, {activation = "relu"}))
  model:add(nn.MaxPooling2D(2))
  model:add(nn.Flatten())
  model:add(nn.Dense(128, {activation = "relu"}))
else
  model:add(nn.Dense(256, {input_dim = 784, activation = "relu"}))
  model:add(nn.Dense(128, {activation = "relu"}))
end
model:add(nn.Dense(10, {activation = "softmax"}))
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}

local per = math.max(1, steps // rounds)
local pos = 1
local function rows(batches) -- the next batches * G training rows (wrapping)
  local n = batches * G
  if pos + n - 1 > #x then pos = 1 end
  local a = pos
  pos = pos + n
  return x:rows(a, a + n - 1), y:rows(a, a + n - 1)
end
local function fit(batches)
  local xs, ys = rows(batches)
  -- batch_size is a rank's: fit's global batch is size x batch_size rows.
  return model:fit(xs, ys, {epochs = 1, batch_size = G // size, verbose = 0})
end

if warmup > 0 then fit(warmup) end
if stats then stats(true) end
-- Per round: its step time and, from nn.dist.stats(true) (read and reset),
-- its wait and reduce times a step (nil without stats or at 1 rank).
local rs, h = {}, nil
for r = 1, rounds do
  barrier()
  local t0 = nn.clock()
  h = fit(per)
  local t = (nn.clock() - t0) / per
  local s = stats and stats(true) or nil
  local n = s and s.steps and s.steps > 0 and s.steps or nil
  rs[r] = {t = t, wait = n and s.wait_seconds / n, reduce = n and s.reduce_seconds / n,
           buckets = n and s.buckets / n, bytes = n and s.bytes / n}
end
local function median(field)
  local v = {}
  for _, r in ipairs(rs) do
    if r[field] then v[#v + 1] = r[field] end
  end
  if #v == 0 then return nil end
  table.sort(v)
  return #v % 2 == 1 and v[(#v + 1) // 2] or 0.5 * (v[#v // 2] + v[#v // 2 + 1])
end
local med = median("t")
local best, worst = rs[1], rs[1]
for _, r in ipairs(rs) do
  if r.t < best.t then best = r end
  if r.t > worst.t then worst = r end
end
local loss = h.history.loss[#h.history.loss] -- the last round's, over all ranks

if main then
  local function f(v, scale, fmt)
    if v == nil then return "-" end
    return string.format(fmt or "%.3f", v * (scale or 1))
  end
  local wait = median("wait")
  print(string.format(
    "nnlua-dist model=%s ranks=%d threads=%d batch=%d global_batch=%d overlap=%s progress=%s steps=%d step_ms=%.3f min_ms=%.3f max_ms=%.3f wait_ms=%s reduce_ms=%s best_wait_ms=%s best_reduce_ms=%s buckets_per_step=%s kb_per_step=%s share=%s loss=%s",
    what, size, threads, G // size, G, os.getenv("NNLUA_DIST_OVERLAP") == "0" and "0" or "1",
    nn.dist.size() > 1 and nn.dist.stats().progress or "none",
    per * rounds, 1e3 * med, 1e3 * best.t, 1e3 * worst.t,
    f(wait, 1e3), f(median("reduce"), 1e3), f(best.wait, 1e3), f(best.reduce, 1e3),
    f(median("buckets"), 1, "%.1f"), f(median("bytes"), 1 / 1024, "%.1f"),
    f(wait and wait / med), f(loss, 1, "%.4f")))
end
