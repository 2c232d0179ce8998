-- Fashion-MNIST (28x28 grey images of clothes, 10 classes) with a plain
-- multilayer perceptron, the primer's first real network: each image
-- flattened to 784 pixels, Dense(128, relu), Dense(10, softmax). Prints the
-- progress and the test accuracy; draws the loss history, the confusion
-- matrix (which clothes it mixes up) and what the first hidden units look
-- for (each unit's 784 incoming weights as a 28x28 image; full run only).
-- Teaches: flattening images, softmax over 10 classes,
-- sparse_categorical_crossentropy, reading a confusion matrix; compare
-- with examples/fashion_cnn.lua, a convolutional network on the same data.
-- Runs in: about 2 s with --quick (4000 images, 2 epochs, test accuracy
-- 0.79); the full run (60000 images, 10 epochs) takes about 10 s on 2
-- cores and reaches a test accuracy of 0.88 (0.8845 measured).
--
--   nnlua examples/fashion_mlp.lua [dir]            full run, pictures into dir (default out)
--   nnlua examples/fashion_mlp.lua --quick [dir]    4000 images, 2 epochs: seconds, for CI
--   nnlua examples/fashion_mlp.lua --data d         the four IDX files from folder d
--   nnlua examples/fashion_mlp.lua --samples n      the first n training images
--
-- The data set is Debian's dataset-fashion-mnist (or a folder in
-- $NNLUA_DATA); without it the script says how to install it and exits 77.
local quick, dir, out, samples = false, nil, "out", nil
local i = 1
while arg and arg[i] do
  if arg[i] == "--quick" then
    quick = true
  elseif arg[i] == "--samples" and math.tointeger(tonumber(arg[i + 1])) then
    samples = math.tointeger(tonumber(arg[i + 1]))
    i = i + 1
  elseif arg[i] == "--data" and arg[i + 1] then
    dir = arg[i + 1]
    i = i + 1
  elseif arg[i]:sub(1, 2) ~= "--" then
    out = arg[i]
  end
  i = i + 1
end
os.execute("mkdir -p '" .. out .. "'")

local ok, data = pcall(nn.data.fashion_mnist, {path = dir})
if not ok then
  io.stderr:write("fashion_mlp: ", tostring(data), "\n")
  os.exit(77) -- "skipped" for the test suite
end
local x_train, y_train = data.x_train, data.y_train
local x_test, y_test = data.x_test, data.y_test
local epochs = 10
if quick then
  epochs = 2
  samples = samples or 4000
end
if samples then
  -- the first n training images and a quarter as many test images
  local n = math.max(1, math.min(samples, #x_train))
  local m = math.max(1, math.min(n // 4, #x_test))
  x_train, y_train = x_train:rows(1, n), y_train:rows(1, n)
  x_test, y_test = x_test:rows(1, m), y_test:rows(1, m)
end
print(string.format("fashion_mlp: %d training and %d test images of %d pixels, %d epochs",
                    #x_train, #x_test, select(2, x_train:shape()), epochs))

nn.seed(1)
local model = nn.Sequential{
  nn.Dense(128, {input_dim = 784, activation = "relu"}),
  nn.Dense(10, {activation = "softmax"}),
}
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = {"accuracy"}}
model:summary()

local t0 = nn.clock()
local history = model:fit(x_train, y_train, {epochs = epochs, batch_size = 64,
                                             validation_data = {x_test, y_test}})
local loss, metrics = model:evaluate(x_test, y_test, {batch_size = 500})
print(string.format("fashion_mlp: test loss %.4f, accuracy %.4f (%d epochs, %.0f s)",
                    loss, metrics.accuracy, epochs, nn.clock() - t0))

history:plot{title = "Fashion-MNIST MLP", file = out .. "/fashion_mlp_history.png"}
nn.plot.confusion(model, x_test, y_test, {title = "Fashion-MNIST MLP: test images",
                                          classes = data.classes,
                                          file = out .. "/fashion_mlp_confusion.png"})
-- After a couple of epochs the weights are still mostly their random
-- start (noise that says nothing), so only the full run draws them.
if quick then
  print("fashion_mlp: fashion_mlp_units.png is drawn by the full run only")
else
  nn.plot.weights(model.layers[1], {image = {28, 28}, max_tiles = 16,
                                    title = string.format("16 hidden units after %d epochs: " ..
                                            "their weight on each pixel", epochs),
                                    file = out .. "/fashion_mlp_units.png"})
end
