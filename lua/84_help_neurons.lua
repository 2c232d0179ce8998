-- nn.help entry of nn.plot.neurons (lua/32_plot_neurons.lua);
-- lua/90_help.lua merges nn._help_extra into its table.
local nn = ...
nn._help_extra = nn._help_extra or {}
local add = function(e) nn._help_extra[#nn._help_extra + 1] = e end

add{"plots", "nn.plot.neurons", "nn.plot.neurons(model, x, y, opts)",
    "For a model of 2 inputs, what every neuron computes (TensorFlow Playground's\n" ..
    "picture): a column per layer, each unit a small map of its output over the\n" ..
    "input plane (blue +, orange -, white 0; the inputs are x1 and x2), edges by\n" ..
    "weight sign and size, and the output's class regions with the points x\n" ..
    "(n x 2) coloured by y. A Dense layer's activation and dropout belong to its\n" ..
    "column. opts.max_units (8: more are elided as \"... N more\"),\n" ..
    "opts.resolution (40 per small map; the output's 5x), opts.padding (0.1\n" ..
    "of the data's range), opts.classes (names).",
    example = [[
local x, y = nn.data.moons(200, 0.1)
local m = nn.Sequential({nn.Dense(8, {input_dim = 2, activation = "relu"}),
                         nn.Dense(8, {activation = "relu"}),
                         nn.Dense(1, {activation = "sigmoid"})})
m:compile({optimizer = "adam", loss = "binary_crossentropy"})
m:fit(x, y - 1, {epochs = 100, verbose = 0}) -- moons labels 1, 2 as 0, 1 for the sigmoid
local file = os.tmpname() .. ".png"
nn.plot.neurons(m, x, y, {file = file, max_units = 4})
os.remove(file)]]}
