-- Regression: fit a noisy sine with mean squared error. Prints the training
-- MSE and the MSE against the noise-free curve.
-- Teaches: regression (a linear output and mean squared error), fitting
-- the signal and not the noise.
-- Runs in: about 1 s
nn.seed(3)
local x, y = nn.data.sine(400, 0.1)
local clean = x:map(math.sin)

local model = nn.Sequential({
  nn.Dense(32, {input_dim = 1, activation = "tanh"}),
  nn.Dense(32, {activation = "tanh"}),
  nn.Dense(1),
})
model:compile{loss = "mse", optimizer = nn.optimizers.Adam{lr = 0.01}, metrics = {"mae"}}
local h = model:fit(x, y, {epochs = 200, batch_size = 32, verbose = 0})
local mse_clean = model:evaluate(x, clean)
print(string.format("regression: training mse %.4f, mse vs the clean sine %.4f",
                    h.history.loss[#h.history.loss], mse_clean))
