-- Linear regression two ways: gradient descent by hand with autograd
-- (loss:backward() gives dloss/dw), and the closed form of least squares
-- (the normal equations X^T X theta = X^T y). They agree.
-- Teaches: requires_grad, backward, .grad, nn.no_grad for the update.
-- Runs in: about 1 s
nn.seed(42)
local n, k = 200, 3
local x = nn.randn(n, k)
local w_true = nn.tensor({{2}, {-1}, {0.5}})
local y = x:matmul(w_true) + 0.3 + nn.randn(n, 1) * 0.1

-- 1. Gradient descent: w and b are leaves whose gradients we want.
local w = nn.zeros(k, 1):requires_grad()
local b = nn.zeros(1):requires_grad()
local lr = 0.1
local loss
for step = 1, 300 do
  local pred = x:matmul(w) + b           -- recorded: matmul, add
  loss = ((pred - y) ^ 2):mean()         -- a one-element tensor
  loss:backward()                        -- fills w.grad and b.grad
  nn.no_grad(function()                  -- the update is not part of the model
    w:sub_(w.grad * lr)
    b:sub_(b.grad * lr)
  end)
  w.grad, b.grad = nil, nil              -- gradients add up until cleared
  if step % 100 == 0 then print(string.format("step %d  mse %.5f", step, loss[1])) end
end

-- 2. The closed form: theta = (X^T X)^-1 X^T y with a column of ones for b,
-- solved by Gaussian elimination on the small k+1 system.
local X = nn.cat({x, nn.ones(n, 1)}, 2)
local A = X:t():matmul(X):totable()
local c = X:t():matmul(y):totable()
local m = k + 1
for i = 1, m do A[i][m + 1] = c[i][1] end
for col = 1, m do
  local piv = col
  for r = col + 1, m do if math.abs(A[r][col]) > math.abs(A[piv][col]) then piv = r end end
  A[col], A[piv] = A[piv], A[col]
  for r = 1, m do
    if r ~= col then
      local f = A[r][col] / A[col][col]
      for j = col, m + 1 do A[r][j] = A[r][j] - f * A[col][j] end
    end
  end
end
local theta = {}
for i = 1, m do theta[i] = A[i][m + 1] / A[i][i] end

local diff = 0
for i = 1, k do
  local g = w:get(i, 1)
  print(string.format("w%d  gradient descent %8.5f   closed form %8.5f   true %5.2f", i, g,
                      theta[i], w_true:get(i, 1)))
  diff = math.max(diff, math.abs(g - theta[i]))
end
print(string.format("b   gradient descent %8.5f   closed form %8.5f   true %5.2f", b[1],
                    theta[m], 0.3))
diff = math.max(diff, math.abs(b[1] - theta[m]))
print(string.format("largest difference %.2e: %s", diff, diff < 1e-3 and "they agree" or "they differ"))
