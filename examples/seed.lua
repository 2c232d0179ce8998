-- The seed example of API.md, as it is there: a small binary classifier
-- on random data, its training history and its layout plotted (loss.png
-- and model.png in the current directory).
-- Teaches: the shape of every nnlua program: Sequential, add, compile, fit,
-- plot. The labels are random, so there is nothing to learn here.
-- Runs in: about 2 s
local x_train = nn.rand(100, 20)
local y_train = nn.rand(100, 1)
local model = nn.Sequential()
model:add(nn.Dense(32, {input_dim = 20, activation = "relu"}))
model:add(nn.Dense(1, {activation = "sigmoid"}))
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local history = model:fit(x_train, y_train, {epochs = 10, batch_size = 32})
nn.plot.history(history, {file = "loss.png"})
nn.plot.model(model, {file = "model.png"})
