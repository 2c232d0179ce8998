-- nn.help entries of nn.plot (lua/30_plot.lua, src/bind/lnn_plot.c);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"plots", "nn.plot.history", "nn.plot.history(h, opts) / history:plot(opts)",
    "Loss and every metric per epoch, a panel each; training solid, validation\n" ..
    "dashed. opts.logy: log y axis (not for accuracy, precision, recall).\n" ..
    "Every plot takes opts.file (.png .svg .pdf .txt; none: a window or text),\n" ..
    "script (keep the gnuplot script), title, xlabel, ylabel, width, height.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local h = model:fit(x, y, {epochs = 30, verbose = 0})
local file = os.tmpname() .. ".png"
nn.plot.history(h, {file = file, title = "xor"})
os.remove(file)]]}

add{"plots", "nn.plot.model", "nn.plot.model(model, opts)",
    "The network as columns of neurons; edges by weight sign (blue +, orange -)\n" ..
    "and size. opts.max_neurons (32): larger layers are elided; opts.weights\n" ..
    "= false draws the structure only. Convolution and pooling layers (and an\n" ..
    "image input) are blocks of feature maps labelled with their output shape.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local file = os.tmpname() .. ".png"
nn.plot.model(model, {file = file})
os.remove(file)]]}

add{"plots", "nn.plot.decision_boundary", "nn.plot.decision_boundary(model, x, y, opts)",
    "Class regions of a model with 2 inputs and the points of x (n x 2) by y.\n" ..
    "opts.resolution (300 per side), opts.padding (0.1), opts.classes (names).",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
model:fit(x, y, {epochs = 50, verbose = 0})
local file = os.tmpname() .. ".png"
nn.plot.decision_boundary(model, x, y, {file = file, resolution = 100})
os.remove(file)]]}

add{"plots", "nn.plot.weights", "nn.plot.weights(layer_or_tensor, opts)",
    "A heat map of a Dense kernel (or of a model's opts.layer-th layer with a\n" ..
    "kernel). opts.image = {h, w}: each unit's weights as an h x w picture, at\n" ..
    "most opts.max_tiles (100). A convolution layer: its filters as small images,\n" ..
    "one per filter with one input channel, else a row per filter with a tile\n" ..
    "per input channel (opts.max_channels, 8), or opts.channels = \"mean\": their\n" ..
    "mean; opts.max_tiles filters (64, or 16 in rows).",
    example = [[
local layer = nn.Dense(10, {input_dim = 64})
local model = nn.Sequential{layer}
local file = os.tmpname() .. ".png"
nn.plot.weights(layer, {file = file, image = {8, 8}})
os.remove(file)]]}

add{"plots", "nn.plot.feature_maps", "nn.plot.feature_maps(model, x, layer, opts)",
    "What each filter of a convolution or pooling layer (an index or the layer)\n" ..
    "gives for one input x ({h, w, c} or {1, h, w, c}): a tile per channel on one\n" ..
    "scale (white lowest); opts.max_tiles (64).",
    example = [[
local model = nn.Sequential{nn.Conv2D(4, 3, {input_shape = {8, 8, 1}, activation = "relu"})}
local images = nn.data.digits{flatten = false}
local file = os.tmpname() .. ".png"
nn.plot.feature_maps(model, images[1], 1, {file = file})
os.remove(file)]]}

add{"plots", "nn.plot.confusion", "nn.plot.confusion(model, x, y, opts)",
    "The confusion matrix of the model on x against labels y; opts.classes names.",
    example = [[
local x, y = nn.data.iris()
local model = nn.Sequential{nn.Dense(3, {activation = "softmax", input_dim = 4})}
model:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
local file = os.tmpname() .. ".png"
nn.plot.confusion(model, x, y, {file = file, classes = {"setosa", "versicolor", "virginica"}})
os.remove(file)]]}

add{"plots", "nn.plot.lines", "nn.plot.lines(xs, ys, opts)",
    "Lines: ys a list or tensor, a list of them, or a 2-D tensor (a line per\n" ..
    "column); xs may be nil. opts.names, opts.logy.",
    example = [[
local xs = nn.linspace(-3, 3, 50)
local file = os.tmpname() .. ".png"
nn.plot.lines(xs, {xs:tanh(), xs:sigmoid()}, {file = file, names = {"tanh", "sigmoid"}})
os.remove(file)]]}

add{"plots", "nn.plot.scatter", "nn.plot.scatter(x, y, opts)",
    "Points: x and y coordinates, or an n x 2 tensor and class labels that\n" ..
    "colour them (opts.class_names).",
    example = [[
nn.seed(1)
local x, y = nn.data.moons(100, 0.1)
local file = os.tmpname() .. ".png"
nn.plot.scatter(x, y, {file = file, class_names = {"upper", "lower"}})
os.remove(file)]]}

add{"plots", "nn.plot.hist", "nn.plot.hist(t, opts)",
    "A histogram of a list or tensor; opts.bins (default by Sturges' rule).",
    example = [[
nn.seed(1)
local file = os.tmpname() .. ".png"
nn.plot.hist(nn.randn(1000), {file = file, bins = 30})
os.remove(file)]]}
