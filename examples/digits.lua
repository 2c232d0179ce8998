-- Handwritten digits (8x8 images, 1797 samples): pixels scaled to 0..1,
-- 80/20 split, one hidden layer with dropout; prints held-out accuracy.
-- Teaches: images as rows of pixels, scaling inputs, Dropout.
-- Runs in: about 1 s
nn.seed(1)
local x, y = nn.data.digits()
x = x / 16
local x_train, y_train, x_test, y_test = nn.data.split(x, y, 0.8)

local model = nn.Sequential({
  nn.Dense(64, {input_dim = 64, activation = "relu"}),
  nn.Dropout(0.2),
  nn.Dense(10, {activation = "softmax"}),
})
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = {"accuracy"}}
model:fit(x_train, y_train, {epochs = 30, batch_size = 32, validation_split = 0.1})
local loss, metrics = model:evaluate(x_test, y_test)
print(string.format("digits: held-out loss %.4f, accuracy %.4f", loss, metrics.accuracy))
