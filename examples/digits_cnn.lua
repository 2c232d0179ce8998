-- Handwritten digits (the shipped 8x8 images, 1797 samples) with a small
-- convolutional network: the images as {n, 8, 8, 1} (channels last),
-- pixels scaled to 0..1, 80/20 split; prints held-out accuracy. Compare
-- with examples/digits.lua, a dense network on the same pixels as rows.
-- Teaches: Conv2D, MaxPooling2D, Flatten; images as {n, h, w, channels}.
-- Runs in: about 3 s (about 1 s with --quick)
--
--   nnlua examples/digits_cnn.lua            30 epochs (seconds)
--   nnlua examples/digits_cnn.lua --quick    5 epochs, for CI
local quick = arg and arg[1] == "--quick"
local epochs = quick and 5 or 30

nn.seed(1)
local x, y = nn.data.digits{flatten = false}
x = x / 16
local x_train, y_train, x_test, y_test = nn.data.split(x, y, 0.8)

local model = nn.Sequential{
  -- "same" padding keeps the 8x8 border pixels, where strokes often end
  nn.Conv2D(16, 3, {activation = "relu", padding = "same", input_shape = {8, 8, 1}}),
  nn.MaxPooling2D(2),                            -- 4 x 4 x 16
  nn.Conv2D(32, 3, {activation = "relu"}),       -- 2 x 2 x 32
  nn.Flatten(),
  nn.Dense(64, {activation = "relu"}),
  nn.Dropout(0.2),
  nn.Dense(10, {activation = "softmax"}),
}
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = {"accuracy"}}
model:fit(x_train, y_train, {epochs = epochs, batch_size = 32, validation_split = 0.1})
local loss, metrics = model:evaluate(x_test, y_test)
print(string.format("digits_cnn: held-out loss %.4f, accuracy %.4f (%d epochs)",
                    loss, metrics.accuracy, epochs))
