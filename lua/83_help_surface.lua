-- nn.help entries of nn.plot.loss_surface (lua/31_plot_surface.lua); lua/90_help.lua
-- merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"plots", "nn.plot.loss_surface",
    "nn.plot.loss_surface(f, opts) -> paths / nn.plot.loss_surface(model, opts) -> grid",
    "Contours of a loss f(w1, w2) over opts.range ({w1_min, w1_max, w2_min, w2_max},\n" ..
    "default {-2, 2, -2, 2}) at opts.resolution points each way (60), and the path\n" ..
    "each of opts.optimizers takes from opts.start ({w1, w2}) in opts.steps steps (50).\n" ..
    "f gets numbers for the grid and one-element tensors that require grad for the\n" ..
    "paths (numbers fail: tensors everywhere), so write it with + - * / ^ or tensor\n" ..
    "methods; the paths are nn.optimizers stepping those two tensors (opt:step).\n" ..
    "optimizers: names (sgd, adam, adamw, rmsprop, adagrad, and momentum / nesterov:\n" ..
    "SGD with momentum 0.9), nn.optimizers objects (copied: theirs is not stepped)\n" ..
    "or {name = ..., lr = ..., other settings}; default {\"sgd\", \"momentum\", \"adam\"}.\n" ..
    "opts.lr: one number, {name = lr} or a list in order (default 0.05; adagrad 0.3).\n" ..
    "opts.log: colours and contours on a log scale (default: when most values crowd\n" ..
    "the bottom, as in a narrow valley). Returns a list of {name, lr, points =\n" ..
    "{{w1, w2}, ...}, loss = {...}} (also by name: paths.adam).\n" ..
    "With a compiled model and opts.x, opts.y: its loss along two random directions\n" ..
    "around its weights, each filter-normalised (scaled per output unit to the norm\n" ..
    "of its weights; biases stay put; Li et al. 2018), range in those units (default\n" ..
    "{-1, 1, -1, 1}), resolution 30, log scale unless opts.log = false; the weights\n" ..
    "come back exactly, error or not.\n" ..
    "Returns {loss = rows, range, center}. With opts.fit (fit's options, e.g.\n" ..
    "{epochs = 20}): the model is trained by fit, its weights recorded, and the loss\n" ..
    "drawn over the plane of the path's two main directions (PCA) around the final\n" ..
    "weights, the path projected on it; the model keeps the fit's weights. Returns\n" ..
    "{points, range, variance}. Common plot options: file, title, ...",
    example = [[
local paths = nn.plot.loss_surface(function(w1, w2) return w1 ^ 2 + 10 * w2 ^ 2 end,
  {start = {1.5, 1.5}, optimizers = {"sgd", "momentum", "adam"}, lr = 0.05,
   file = "bowl.png"})
for _, p in ipairs(paths) do
  print(p.name, #p.points, p.loss[#p.loss])  -- where each one ended
end]]}
