-- Fashion-MNIST (28x28 grey images of clothes, 10 classes) with a small
-- convolutional network, as in the Keras tutorials: two Conv2D + max
-- pooling stages, then a dense layer. Images come as {n, 28, 28, 1}
-- (channels last). Prints progress per epoch and the test accuracy.
-- Teaches: a real convolutional network, the Keras way; compare with
-- examples/fashion_mlp.lua.
-- Runs in: about 10 s with --quick; the full run takes minutes (see docs/data.md)
--
--   nnlua examples/fashion_cnn.lua            full run (60000 images, EPOCHS epochs)
--   nnlua examples/fashion_cnn.lua --quick    4000 images, 1 epoch: seconds, for CI
--   nnlua examples/fashion_cnn.lua --epochs 3 another epoch count
--   nnlua examples/fashion_cnn.lua --data dir the four IDX files from dir
--   nnlua examples/fashion_cnn.lua --quick --samples 500   fewer images
--
-- The data set is Debian's dataset-fashion-mnist (or a folder in
-- $NNLUA_DATA); without it the script says how to install it and exits 77.
local EPOCHS = 12

local quick, epochs, dir, samples = false, EPOCHS, nil, nil
local i = 1
while arg and arg[i] do
  if arg[i] == "--quick" then
    quick = true
  elseif arg[i] == "--epochs" and tonumber(arg[i + 1]) then
    epochs = math.tointeger(tonumber(arg[i + 1])) or EPOCHS
    i = i + 1
  elseif arg[i] == "--samples" and math.tointeger(tonumber(arg[i + 1])) then
    samples = math.tointeger(tonumber(arg[i + 1]))
    i = i + 1
  elseif arg[i] == "--data" and arg[i + 1] then
    dir = arg[i + 1]
    i = i + 1
  else
    io.stderr:write("usage: fashion_cnn.lua [--quick] [--epochs n] [--samples n] [--data dir]\n")
    os.exit(2)
  end
  i = i + 1
end

local ok, data = pcall(nn.data.fashion_mnist, {flatten = false, path = dir})
if not ok then
  io.stderr:write("fashion_cnn: ", tostring(data), "\n")
  os.exit(77) -- "skipped" for the test suite
end
local x_train, y_train = data.x_train, data.y_train
local x_test, y_test = data.x_test, data.y_test
if quick then
  -- a few thousand images: the network and every code path, in seconds
  samples = samples or 4000
  epochs = 1
end
if samples then
  -- the first n training images and a quarter as many test images
  local n = math.max(1, math.min(samples, #x_train))
  local m = math.max(1, math.min(n // 4, #x_test))
  x_train, y_train = x_train:rows(1, n), y_train:rows(1, n)
  x_test, y_test = x_test:rows(1, m), y_test:rows(1, m)
end
print(string.format("fashion_cnn: %d training and %d test images of %s, %d epoch%s, %d thread%s",
                    #x_train, #x_test, table.concat({select(2, x_train:shape())}, "x"),
                    epochs, epochs == 1 and "" or "s", nn.cpu().threads,
                    nn.cpu().threads == 1 and "" or "s"))

nn.seed(1)
local model = nn.Sequential{
  nn.Conv2D(32, 3, {activation = "relu", input_shape = {28, 28, 1}}),
  nn.MaxPooling2D(2),
  nn.Conv2D(64, 3, {activation = "relu"}),
  nn.MaxPooling2D(2),
  nn.Flatten(),
  nn.Dense(128, {activation = "relu"}),
  nn.Dense(10, {activation = "softmax"}),
}
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
              metrics = {"accuracy"}}
model:summary()

local t0 = nn.clock()
-- the test set is evaluated after each epoch too (validation_data), so the
-- progress lines show how test accuracy grows
model:fit(x_train, y_train, {epochs = epochs, batch_size = 128,
                             validation_data = {x_test, y_test}})
local loss, metrics = model:evaluate(x_test, y_test, {batch_size = 500})
print(string.format("fashion_cnn: test loss %.4f, accuracy %.4f (%d epoch%s, %.0f s)",
                    loss, metrics.accuracy, epochs, epochs == 1 and "" or "s",
                    nn.clock() - t0))
