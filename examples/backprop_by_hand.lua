-- Backpropagation written out: a two-layer network (2 -> 8 tanh -> 1
-- sigmoid) trained on the two moons with tensors only, its gradients by the
-- chain rule by hand. They are checked against autograd, and the whole
-- training run against model:fit on the same data from the same weights
-- (full batch, plain SGD, no shuffling): the same weights to float
-- tolerance.
-- Teaches: z = xW + b, a = f(z), dL/dz, dL/dW = a^T dL/dz.
-- Runs in: about 1 s
nn.seed(7)
local x, labels = nn.data.moons(200, 0.1)
local n = #x
local y = (labels - 1):reshape(n, 1)   -- classes 1, 2 -> targets 0, 1

-- The model fit will train, and its initial weights as plain tensors.
local model = nn.Sequential{nn.Dense(8, {input_dim = 2, activation = "tanh"}),
                            nn.Dense(1, {activation = "sigmoid"})}
local w0 = model:get_weights()
local W1, b1, W2, b2 = w0[1]:clone(), w0[2]:clone(), w0[3]:clone(), w0[4]:clone()

-- Forward: z1 = x W1 + b1, a1 = tanh(z1), z2 = a1 W2 + b2, p = sigmoid(z2);
-- loss = mean of the binary cross-entropy.
-- Backward by the chain rule (sigmoid + cross-entropy give dL/dz2 = (p - y) / n):
local function grads_by_hand(W1, b1, W2, b2)
  local z1 = x:matmul(W1) + b1
  local a1 = z1:tanh()
  local p = (a1:matmul(W2) + b2):sigmoid()
  local dz2 = (p - y) / n                      -- n x 1
  local dW2 = a1:t():matmul(dz2)               -- 8 x 1
  local db2 = dz2:sum(1)                       -- 1
  local da1 = dz2:matmul(W2:t())               -- n x 8
  local dz1 = da1 * (1 - a1 ^ 2)               -- tanh' = 1 - tanh^2
  local dW1 = x:t():matmul(dz1)                -- 2 x 8
  local db1 = dz1:sum(1)                       -- 8
  return {W1 = dW1, b1 = db1, W2 = dW2, b2 = db2}
end

-- The same loss for autograd (nn.grad differentiates it).
local function loss_of(p)
  local z1 = x:matmul(p.W1) + p.b1
  local q = (z1:tanh():matmul(p.W2) + p.b2):sigmoid():clamp(1e-7, 1 - 1e-7)
  return -(y * q:log() + (1 - y) * (1 - q):log()):mean()
end

local hand = grads_by_hand(W1, b1, W2, b2)
local auto = nn.grad(loss_of)({W1 = W1, b1 = b1, W2 = W2, b2 = b2})
local worst = 0
for _, k in ipairs{"W1", "b1", "W2", "b2"} do
  worst = math.max(worst, ((hand[k] - auto[k]):abs():max()))  -- max gives value, index
end
print(string.format("by hand vs autograd: largest difference %.2e", worst))

-- Train by hand: plain gradient descent on the whole set.
local lr, steps = 0.5, 200
for _ = 1, steps do
  local g = grads_by_hand(W1, b1, W2, b2)
  W1 = W1 - g.W1 * lr; b1 = b1 - g.b1 * lr
  W2 = W2 - g.W2 * lr; b2 = b2 - g.b2 * lr
end

-- The same with fit: one batch of everything per epoch, SGD, no shuffling.
model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = lr},
              metrics = {"accuracy"}}
model:fit(x, y, {epochs = steps, batch_size = n, shuffle = false, verbose = 0})
local wf = model:get_weights()
local gap = 0
for i, t in ipairs{W1, b1, W2, b2} do gap = math.max(gap, ((t - wf[i]):abs():max())) end
local _, m = model:evaluate(x, y)
print(string.format("by hand vs fit after %d steps: largest weight difference %.2e", steps, gap))
print(string.format("accuracy %.3f; %s", m.accuracy,
                    (worst < 1e-5 and gap < 1e-4) and "all three agree" or "they DIFFER"))
