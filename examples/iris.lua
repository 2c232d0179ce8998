-- Iris: 3 species from 4 measurements. Standardized features, 80/20
-- split, a small softmax classifier; prints the held-out accuracy.
-- Teaches: standardizing features, a train/test split, softmax with
-- sparse_categorical_crossentropy for more than two classes.
-- Runs in: about 1 s
nn.seed(1)
local x, y, info = nn.data.iris()
local x_train, y_train, x_test, y_test = nn.data.split(x, y, 0.8)
local mean, std
x_train, mean, std = nn.data.standardize(x_train)
x_test = nn.data.standardize(x_test, mean, std)

local model = nn.Sequential({
  nn.Dense(16, {input_dim = 4, activation = "relu"}),
  nn.Dense(3, {activation = "softmax"}),
})
model:compile{loss = "sparse_categorical_crossentropy",
              optimizer = nn.optimizers.Adam{lr = 0.01}, metrics = {"accuracy"}}
model:fit(x_train, y_train, {epochs = 100, batch_size = 16, verbose = 0})
local loss, metrics = model:evaluate(x_test, y_test)
print(string.format("iris (%s): held-out loss %.4f, accuracy %.4f",
                    table.concat(info.classes, "/"), loss, metrics.accuracy))
