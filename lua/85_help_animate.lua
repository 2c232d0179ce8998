-- nn.help entries of nn.callbacks.Animate (lua/33_animate.lua); lua/90_help.lua
-- merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"training", "nn.callbacks.Animate",
    "nn.callbacks.Animate{file = \"fit.gif\", plot = \"history\", every = 1, delay = 25}",
    "Records a picture of the model at every every-th epoch, and at the last,\n" ..
    "into an animated GIF drawn by gnuplot when fit ends: plot = \"history\" (loss\n" ..
    "and metrics), \"decision_boundary\" (class regions; needs x, y: n x 2 points\n" ..
    "and labels), \"weights\" (a layer's kernel, the layer-th with one, on one\n" ..
    "colour scale) or \"neurons\" (where nn.plot.neurons exists). delay: hundredths\n" ..
    "of a second a frame. Each frame's title gives the epoch, loss and accuracy;\n" ..
    "frames share their axes. Also x, y, layer (weights), title, width, height,\n" ..
    "resolution, image, logy.\n" ..
    "An error while drawing is said once on stderr and training goes on.\n" ..
    "nn.callbacks.LivePlot{plot = ..., x =, y =} shows the same pictures live.",
    example = [[
local x, y = nn.data.spiral(150, 3)
local m = nn.Sequential{nn.Dense(16, "relu", {input_dim = 2}), nn.Dense(3, "softmax")}
m:compile{optimizer = "adam", loss = "sparse_categorical_crossentropy",
          metrics = {"accuracy"}}
m:fit(x, y, {epochs = 20, verbose = 0, callbacks = {
  nn.callbacks.Animate{file = "spiral.gif", plot = "decision_boundary", x = x, y = y,
                       every = 2}}})]]}
