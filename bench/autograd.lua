-- Custom training loops against fit, on the MLP of bench/train.lua
-- (784-256-128-10, relu, relu, softmax; Adam; batch 128; Fashion-MNIST's
-- 60,000 training images, or random data of that shape without them):
--   fit       model:fit, as bench/train.lua
--   loop      a Lua loop: model(x), nn.losses.sparse_categorical_crossentropy,
--             backward, optimizer:step (the same model, Adam object)
--   grad      the same network as raw tensors: nn.grad of a function doing
--             matmul + bias, relu, log_softmax and the loss, then opt:step
--   overhead  the tape's cost per operation: a chain of small element-wise
--             ops with and without a leaf that requires grad (ns per op)
--   rss       peak RSS after 10,000 steps of the loop (one batch reused)
-- One untimed warm-up epoch (BENCH_WARMUP), then [epochs] timed ones; data
-- and model construction untimed. Prints one line per run:
--   <mode> threads=<n> data=<..> samples=<N> seconds=<s> samples_per_s=<r> loss=<l> maxrss_kb=<k>
-- Usage: nnlua bench/autograd.lua mode [threads] [epochs]
local mode = arg and arg[1] or "loop"
local threads = tonumber(arg and arg[2]) or 1
local epochs = tonumber(arg and arg[3]) or 1
local warmup = tonumber(os.getenv("BENCH_WARMUP") or "1")
nn.threads(threads)
nn.seed(1)

local function maxrss_kb()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)")) or -1
end

if mode == "overhead" then
  -- y = ((y * a) + b) ... on [4] tensors: the op's own work is a few ns,
  -- so the difference is what recording costs (node, saved views, GC).
  local n = 200000
  local function run(grad)
    local a = nn.ones(4) * 0.5
    local x = nn.ones(4)
    if grad then x:requires_grad() end
    local t0 = nn.clock()
    local y = x
    for i = 1, n do
      y = y * 0.999
      if i % 100 == 0 then
        if grad then y:backward(nn.ones(4)) end
        y = x
      end
    end
    return (nn.clock() - t0) / n * 1e9
  end
  run(false); run(true)
  local plain, taped = run(false), run(true)
  print(string.format("overhead threads=%d ns_per_op_plain=%.0f ns_per_op_taped=%.0f " ..
                      "ns_tape=%.0f (backward of every 100 ops included) maxrss_kb=%d",
                      threads, plain, taped, taped - plain, maxrss_kb()))
  return
end

local x, y, source
local ok, d = pcall(nn.data.fashion_mnist, {split = "train"})
if ok then
  x, y, source = d.x_train, d.y_train, "fashion"
else
  x = nn.rand(60000, 784)
  y = nn.rand(60000):map(function(v) return math.floor(v * 10) + 1 end)
  source = "random"
end
local n = #x
y = y:reshape(n, 1)

local model = nn.Sequential()
model:add(nn.Dense(256, {input_dim = 784, activation = "relu"}))
model:add(nn.Dense(128, {activation = "relu"}))
model:add(nn.Dense(10, {activation = "softmax"}))
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}

local epoch
if mode == "fit" then
  epoch = function() model:fit(x, y, {epochs = 1, batch_size = 128, verbose = 0}) end
elseif mode == "loop" or mode == "rss" then
  local opt = nn.optimizers.Adam{}
  local W = model:trainable_weights()
  local loss = nn.losses.sparse_categorical_crossentropy
  local function step(xb, yb)
    opt:zero_grad(W)
    loss(yb, model(xb)):backward()
    opt:step(W)
  end
  if mode == "rss" then
    local xb, yb = x:rows(1, 128), y:rows(1, 128)
    for _ = 1, 100 do step(xb, yb) end
    local r0 = maxrss_kb()
    for _ = 1, 10000 do step(xb, yb) end
    print(string.format("rss threads=%d steps=10000 maxrss_kb_after_100=%d maxrss_kb_after_10100=%d",
                        threads, r0, maxrss_kb()))
    return
  end
  epoch = function()
    local xs, ys = nn.data.shuffle(x, y)
    for i = 1, n, 128 do
      local last = math.min(i + 127, n)
      step(xs:rows(i, last), ys:rows(i, last))
    end
  end
elseif mode == "grad" then
  -- The model's initial weights as raw tensors (same start as the others).
  local w = model:get_weights()
  local params = {w1 = w[1], b1 = w[2], w2 = w[3], b2 = w[4], w3 = w[5], b3 = w[6]}
  local order = {"w1", "b1", "w2", "b2", "w3", "b3"}
  local eye = nn.eye(10)
  local function f(p, xb, onehot)
    local h1 = (xb:matmul(p.w1) + p.b1):relu()
    local h2 = (h1:matmul(p.w2) + p.b2):relu()
    local logp = (h2:matmul(p.w3) + p.b3):log_softmax(2)
    return -(logp * onehot):sum() / xb:shape()
  end
  local df = nn.grad(f)
  local opt = nn.optimizers.Adam{}
  local plist = {}
  for i, k in ipairs(order) do plist[i] = params[k]:requires_grad() end
  epoch = function()
    local xs, ys = nn.data.shuffle(x, y)
    local oh = eye:index(1, ys:reshape(n))
    for i = 1, n, 128 do
      local last = math.min(i + 127, n)
      local g = df(params, xs:rows(i, last), oh:rows(i, last))
      for j, k in ipairs(order) do plist[j].grad = g[k] end
      opt:step(plist)
    end
  end
  model.__grad_params = params
else
  error("unknown mode " .. mode .. " (fit, loop, grad, overhead, rss)")
end

for _ = 1, warmup do epoch() end
local t0 = nn.clock()
for _ = 1, epochs do epoch() end
local secs = nn.clock() - t0
if mode == "grad" then
  local p = model.__grad_params
  model:set_weights{p.w1, p.b1, p.w2, p.b2, p.w3, p.b3}
end
local l = model:evaluate(x, y, {batch_size = 1024})
print(string.format("%s threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f loss=%.4f maxrss_kb=%d",
                    mode, threads, source, n * epochs, secs, n * epochs / secs, l, maxrss_kb()))
