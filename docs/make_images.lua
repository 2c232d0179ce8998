-- Regenerates the pictures in docs/images/ (run by scripts/docs-images.sh,
-- or `nnlua docs/make_images.lua` from the project folder). Every model is
-- seeded, so the pictures only change when the code does.
local out = (... or "docs/images") .. "/"

-- 1. The seed example of API.md: 20-32-1, the loss curves and the network.
nn.seed(1)
local x_train, y_train = nn.rand(100, 20), nn.rand(100, 1)
local seed = nn.Sequential()
seed:add(nn.Dense(32, {input_dim = 20, activation = "relu"}))
seed:add(nn.Dense(1, {activation = "sigmoid"}))
seed:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
nn.plot.model(seed, {file = out .. "seed_model_untrained.png", weights = false,
                     title = "the seed example's network, untrained (structure only)"})
seed:fit(x_train, y_train, {epochs = 10, batch_size = 32, verbose = 0})
nn.plot.model(seed, {file = out .. "seed_model.png", title = "the seed example's network after training"})

-- 2. Two moons: a small network's decision regions, loss curves, diagram.
nn.seed(3)
local x, y = nn.data.moons(400, 0.15)
-- Named layers: the automatic names count every Dense made so far in the
-- process (dense_2, dense_3, ... here), as in Keras.
local moons = nn.Sequential({
  nn.Dense(8, {input_dim = 2, activation = "tanh", name = "hidden_1"}),
  nn.Dense(8, {activation = "tanh", name = "hidden_2"}),
  nn.Dense(1, {activation = "sigmoid", name = "output"}),
})
moons:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.02},
              metrics = {"accuracy"}}
local h = moons:fit(x, y - 1, {epochs = 80, batch_size = 32, validation_split = 0.25, verbose = 0})
nn.plot.history(h, {file = out .. "moons_loss.png", title = "two moons: 2-8-8-1, Adam"})
nn.plot.decision_boundary(moons, x, y, {file = out .. "moons_boundary.png",
                                        title = "two moons: decision regions of 2-8-8-1",
                                        classes = {"moon 1", "moon 2"}})
nn.plot.model(moons, {file = out .. "moons_model.png", title = "two moons: 2-8-8-1 after training"})
-- what each of its neurons computes (the TensorFlow Playground picture)
nn.plot.neurons(moons, x, y, {file = out .. "moons_neurons.png"})
-- the activation functions and their derivatives
nn.plot.activations({"sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu"},
                    {file = out .. "activations.png"})

-- 3. XOR with the smallest network that learns it: 2-3-1.
nn.seed(5)
local xx, xy = nn.data.xor()
local xor = nn.Sequential({nn.Dense(3, {input_dim = 2, activation = "tanh", name = "hidden"}),
                           nn.Dense(1, {activation = "sigmoid", name = "output"})})
xor:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.05}}
xor:fit(xx, xy, {epochs = 300, batch_size = 4, verbose = 0})
nn.plot.model(xor, {file = out .. "xor_model.png", title = "XOR: 2-3-1 after training"})

-- 4. Handwritten digits (8x8): loss curves, first-layer weights as images,
-- confusion matrix on held-out digits.
nn.seed(1)
local dx, dy = nn.data.digits()
dx = dx / 16
local xtr, ytr, xte, yte = nn.data.split(dx, dy, 0.8)
local digits = nn.Sequential({
  nn.Dense(64, {input_dim = 64, activation = "relu"}),
  nn.Dropout(0.2),
  nn.Dense(10, {activation = "softmax"}),
})
digits:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
               metrics = {"accuracy"}}
local dh = digits:fit(xtr, ytr, {epochs = 30, batch_size = 32, validation_split = 0.1, verbose = 0})
nn.plot.history(dh, {file = out .. "digits_loss.png", title = "digits: 64-64-10 with dropout"})
nn.plot.weights(digits.layers[1], {file = out .. "digits_weights.png", image = {8, 8},
                                   max_tiles = 36,
                                   title = "digits: incoming weights of the first 36 hidden units"})
local names = {}
for i = 0, 9 do names[#names + 1] = tostring(i) end
nn.plot.confusion(digits, xte, yte, {file = out .. "digits_confusion.png", classes = names})

-- 5. A large network is elided: 784-256-128-10 (structure and random
-- initial weights).
nn.seed(1)
local big = nn.Sequential({nn.Dense(256, {input_dim = 784, activation = "relu", name = "hidden_1"}),
                           nn.Dense(128, {activation = "relu", name = "hidden_2"}),
                           nn.Dense(10, {activation = "softmax", name = "output"})})
nn.plot.model(big, {file = out .. "mnist_model.png",
                    title = "784-256-128-10 (initial weights): a readable subset"})

-- 6. Fashion-MNIST (Debian's dataset-fashion-mnist), when installed: what
-- the first layer of a 784-64-10 network looks for, each unit's 784
-- incoming weights as a 28 x 28 picture. The L2 penalty pulls the weights
-- of pixels that do not matter to zero, so the garment shapes stand out of
-- the initial noise (without it, five epochs left mostly noise); a unit
-- whose weights all went to zero shows white.
local ok, fm = pcall(nn.data.fashion_mnist)
if ok then
  nn.seed(1)
  local fashion = nn.Sequential({
    nn.Dense(64, {input_dim = 784, activation = "relu", kernel_regularizer = {l2 = 1e-3},
                  name = "hidden"}),
    nn.Dense(10, {activation = "softmax", name = "output"}),
  })
  fashion:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam",
                  metrics = {"accuracy"}}
  fashion:fit(fm.x_train, fm.y_train, {epochs = 5, batch_size = 64, verbose = 0})
  local _, m = fashion:evaluate(fm.x_test, fm.y_test)
  nn.plot.weights(fashion.layers[1], {file = out .. "fashion_weights.png", image = {28, 28},
                                      max_tiles = 36,
                                      title = string.format("Fashion-MNIST 784-64-10: first-layer "
                                        .. "weights of 36 units (test accuracy %.1f%%)",
                                        100 * m.accuracy)})
else
  print("docs/images: Fashion-MNIST is not installed (apt-get install "
        .. "dataset-fashion-mnist); fashion_weights.png left as it was")
end
-- 7. A small CNN on the 8x8 digits: the diagram (blocks of feature maps),
-- the first layer's filters, the second's (a row per filter, a tile per
-- input channel), and what the first layer's filters make of one digit.
nn.seed(1)
local cx, cy = nn.data.digits()
cx = (cx / 16):reshape(cx:shape(), 8, 8, 1)
local ctr, cytr, cte, cyte = nn.data.split(cx, cy, 0.8)
local cnn = nn.Sequential({
  nn.Conv2D(8, 3, {activation = "relu", padding = "same", input_shape = {8, 8, 1}}),
  nn.MaxPooling2D(2),
  nn.Conv2D(16, 3, {activation = "relu", padding = "same"}),
  nn.MaxPooling2D(2),
  nn.Flatten(),
  nn.Dense(10, {activation = "softmax"}),
})
cnn:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
cnn:fit(ctr, cytr, {epochs = 30, batch_size = 32, verbose = 0})
local _, cm = cnn:evaluate(cte, cyte)
nn.plot.model(cnn, {file = out .. "cnn_model.png",
                    title = string.format("digits CNN: Conv2D-MaxPooling2D twice, then Dense "
                                          .. "(test accuracy %.1f%%)", 100 * cm.accuracy)})
nn.plot.weights(cnn.layers[1], {file = out .. "cnn_filters.png",
                                title = "digits CNN: the 8 filters (3x3) of the first Conv2D"})
nn.plot.weights(cnn.layers[3], {file = out .. "cnn_filters2.png", max_tiles = 8,
                                title = "digits CNN: filters 1-8 of the second Conv2D, a row "
                                        .. "per filter, a tile per input channel"})
nn.plot.feature_maps(cnn, cte[1], 1, {file = out .. "cnn_feature_maps.png",
                                      title = string.format("digits CNN: the first Conv2D's 8 "
                                        .. "feature maps of a test digit (a %d)",
                                        math.tointeger(cyte:get(1)) - 1)})
-- Loss surfaces: four optimizers in a curved valley; a trained model's
-- loss around its weights (the two moons model of 2.).
nn.plot.loss_surface(function(w1, w2) return (1 - w1) ^ 2 + 10 * (w2 - w1 ^ 2) ^ 2 end, {
  range = {-2, 2, -1, 3}, start = {0.3, 2.8}, steps = 200, resolution = 90,
  optimizers = {{name = "sgd", lr = 0.008}, {name = "momentum", lr = 0.002},
                {name = "rmsprop", lr = 0.02}, {name = "adam", lr = 0.05}},
  title = "four optimizers, 200 steps each, in a curved valley (minimum at 1, 1)",
  file = out .. "loss_surface_optimizers.png"})
nn.seed(7)
nn.plot.loss_surface(moons, {x = x, y = y - 1, resolution = 41,
                             title = "two moons 2-8-8-1: the loss around its trained weights",
                             file = out .. "loss_surface_model.png"})
nn.seed(3)
local fit_model = nn.Sequential({nn.Dense(8, {input_dim = 2, activation = "tanh"}),
                                 nn.Dense(8, {activation = "tanh"}),
                                 nn.Dense(1, {activation = "sigmoid"})})
fit_model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.02}}
nn.plot.loss_surface(fit_model, {x = x, y = y - 1, fit = {epochs = 40}, resolution = 41,
                                 title = "two moons 2-8-8-1: the path of 40 epochs of Adam",
                                 file = out .. "loss_surface_fit.png"})
-- 8. Teaching pictures for the README, drawn by the examples themselves
-- (each run with a scratch folder as its picture folder, then copied):
-- overfitting and its cures, vanishing gradients, learning rates.
local scratch = os.tmpname()
os.remove(scratch)
for _, e in ipairs{
  {"overfitting", "overfitting.png", "teach_overfitting.png"},
  {"vanishing_gradients", "gradients_sigmoid.png", "teach_vanishing_gradients.png"},
  {"learning_rates", "learning_rates.png", "teach_learning_rates.png"},
} do
  local chunk = assert(loadfile("examples/" .. e[1] .. ".lua"))
  arg = {scratch}
  chunk(scratch)
  local f = assert(io.open(scratch .. "/" .. e[2], "rb"))
  local png = f:read("a")
  f:close()
  f = assert(io.open(out .. e[3], "wb"))
  f:write(png)
  f:close()
end
os.execute("rm -rf '" .. scratch .. "'")
print("docs/images: done")
