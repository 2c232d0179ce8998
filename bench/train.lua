-- Training throughput of nnlua: an MLP 784-256-128-10 (relu, relu, softmax),
-- Adam, batch 128, sparse categorical cross-entropy, one epoch over
-- Fashion-MNIST's 60,000 training images (random data of the same shape
-- when the dataset is not installed). Prints one line:
--   nnlua threads=<n> data=<fashion|random> samples=<N> seconds=<s> samples_per_s=<r> loss=<l>
-- The time is wall time of model:fit only (data loading excluded), from
-- nn.clock().
-- Usage: nnlua bench/train.lua [threads] [epochs]
local threads = tonumber(arg and arg[1]) or 1
local epochs = tonumber(arg and arg[2]) or 1
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
              metrics = {"accuracy"}}

local t0 = wall()
local h = model:fit(x, y, {epochs = epochs, batch_size = 128, verbose = 0})
local secs = wall() - t0
local n = #x * epochs
print(string.format("nnlua threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f loss=%.4f",
                    threads, source, n, secs, n / secs, h.history.loss[#h.history.loss]))
