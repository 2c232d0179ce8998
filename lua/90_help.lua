-- nn.help: the reference entries of nn, printed on request.
--   nn.help()            lists the topics and their entries
--   nn.help("tensors")   one line per entry of a topic
--   nn.help(nn.zeros), nn.help("zeros"), nn.help("t:sum"), nn.help(t.sum)
--                        the entry of a function (found by value or name)
--   nn.help(t)           the topic of a value (a tensor, a model, ...); a layer
--                        gives the entry of its kind
-- Entries live here, in one table, so that the text is written once; other
-- parts of nn find theirs by name. Runs last (90_) so that nn.data, nn.plot
-- and the rest exist when functions are looked up by value.
local nn = ...

local topics = {
  {"tensors", "nn.Tensor: float32 arrays of 1 to 8 dimensions"},
  {"autograd", "gradients of tensor computations: requires_grad, backward, nn.grad"},
  {"runtime", "seed, threads, CPU, version"},
  {"data", "nn.data: loading and making data sets"},
  {"models", "nn.Sequential and its methods"},
  {"layers", "the layer kinds (nn.Dense, ...)"},
  {"training", "optimizers and callbacks"},
  {"plots", "nn.plot: gnuplot drawings"},
}

-- {topic, name, usage, text}; name is what help is asked for, usage the
-- call as written in scripts.
local entries = {
  -- tensors
  {"tensors", "nn.tensor", "nn.tensor(nested) / nn.tensor(flat, {d1, d2, ...})",
   "A tensor from a nested table of numbers ({{1, 2}, {3, 4}} is 2 x 2), or from\n" ..
   "a flat table and a shape. Rows must all have the same length; at most 8 levels."},
  {"tensors", "nn.zeros", "nn.zeros(d1, ...) / nn.zeros({d1, ...})",
   "A tensor of zeros of the given shape (1 to 8 dimensions)."},
  {"tensors", "nn.ones", "nn.ones(d1, ...) / nn.ones({d1, ...})", "A tensor of ones."},
  {"tensors", "nn.full", "nn.full({d1, ...}, v)", "A tensor filled with the number v."},
  {"tensors", "nn.rand", "nn.rand(d1, ...)",
   "Uniform random numbers in [0, 1); the same after the same nn.seed(n)."},
  {"tensors", "nn.randn", "nn.randn(d1, ...)",
   "Standard normal random numbers; the same after the same nn.seed(n)."},
  {"tensors", "nn.arange", "nn.arange(n) / nn.arange(start, stop [, step])",
   "The 1-D tensor 0, 1, ..., n-1; or start, start + step, ... before stop (stop\n" ..
   "excluded; step may be fractional or negative, not 0), as numpy and torch."},
  {"tensors", "nn.randint", "nn.randint(lo, hi, {d1, ...})",
   "Random integers lo..hi inclusive, uniform; the same after the same nn.seed(n).\n" ..
   "lo and hi within -2^24..2^24 (exact in float32)."},
  {"tensors", "nn.randperm", "nn.randperm(n)",
   "A random permutation of 1..n (n at most 2^24); the same after the same nn.seed(n)."},
  {"tensors", "nn.zeros_like", "nn.zeros_like(t)", "Zeros of t's shape."},
  {"tensors", "nn.ones_like", "nn.ones_like(t)", "Ones of t's shape."},
  {"tensors", "nn.save_tensors", "nn.save_tensors(path, {name = t, ...} [, {key = \"text\"}])",
   "Saves tensors by name to a safetensors file (F32, written through a\n" ..
   "temporary file then renamed); the optional table becomes __metadata__.\n" ..
   "numpy, PyTorch and the safetensors library read it."},
  {"tensors", "nn.load_tensors", "nn.load_tensors(path) -> {name = t, ...}, metadata",
   "Reads a safetensors file: every tensor as float32 (F64, F16, BF16, integers\n" ..
   "and BOOL converted), and the __metadata__ strings as a second table."},
  {"tensors", "nn.linspace", "nn.linspace(a, b, n)", "n evenly spaced numbers from a to b inclusive."},
  {"tensors", "nn.eye", "nn.eye(n)", "The n x n identity matrix."},
  {"tensors", "nn.matmul", "nn.matmul(a, b) / a:matmul(b)",
   "Matrix product of a (m x k) and b (k x n) on the SIMD core. A 1-D b is a column\n" ..
   "(the result is 1-D); a 1-D a is a row. 3-D operands are batches of matrices:\n" ..
   "[b x m x k] times [b x k x n] is [b x m x n]; a batch of 1 or a 2-D operand is\n" ..
   "used for every matrix of the other."},
  {"tensors", "Tensor:mm", "a:mm(b)", "Matrix product of two 2-D tensors only."},
  {"tensors", "nn.dot", "nn.dot(a, b) / a:dot(b)",
   "The inner product of two 1-D tensors of one length (a number; a one-element\n" ..
   "tensor when it is recorded for autograd)."},
  {"tensors", "nn.outer", "nn.outer(a, b) / a:outer(b)",
   "The outer product of 1-D a (m) and b (n): an m x n tensor."},
  {"tensors", "nn.cat", "nn.cat({a, b, ...} [, dim])",
   "Concatenates tensors along dimension dim (default 1); the other dimensions\nmust agree."},
  {"tensors", "Tensor:shape", "t:shape() -> d1, d2, ...", "The sizes of the dimensions, as several values."},
  {"tensors", "Tensor:size", "t:size() -> {d1, d2, ...}", "The shape as a table."},
  {"tensors", "Tensor:dim", "t:dim()", "The number of dimensions (1 to 8)."},
  {"tensors", "Tensor:numel", "t:numel()", "The number of elements."},
  {"tensors", "Tensor:len", "#t", "The size of the first dimension."},
  {"tensors", "Tensor:[i]", "t[i] / t[i] = v",
   "For 1-D, element i. For more dimensions, a view of row i: it shares storage,\n" ..
   "so writing to it changes t. t[i] = v sets an element, or fills row i with a\n" ..
   "number or copies a tensor of the row's shape into it."},
  {"tensors", "Tensor:get", "t:get(i, j, ...)", "One element; one 1-based index per dimension."},
  {"tensors", "Tensor:set", "t:set(i, j, ..., v) -> t", "Sets one element; returns t."},
  {"tensors", "Tensor:rows", "t:rows(a [, b])", "A view of rows a..b (default b = a), sharing storage."},
  {"tensors", "Tensor:clone", "t:clone()", "A deep copy."},
  {"tensors", "Tensor:fill_", "t:fill_(v) -> t", "Sets every element to the number v, in place."},
  {"tensors", "Tensor:zero_", "t:zero_() -> t", "Sets every element to 0, in place."},
  {"tensors", "Tensor:reshape", "t:reshape(d1, ...)",
   "A view with a new shape of the same number of elements; one size may be -1\n" ..
   "and is inferred."},
  {"tensors", "Tensor:totable", "t:totable()", "The values as nested Lua tables."},
  {"tensors", "Tensor:arith", "a + b, a - b, a * b, a / b, a ^ b, -a",
   "Element-wise, with a number (either side) or a tensor; shapes broadcast by\n" ..
   "numpy's rules (trailing sizes equal or 1: [3x1] with [4] gives [3x4])."},
  {"tensors", "Tensor:sum", "t:sum([dim [, keepdim]])",
   "The sum of all elements (a number), or along dimension dim (a tensor without\n" ..
   "that dimension, or with it of size 1 when keepdim is true); dim is 1-based,\n" ..
   "negative counts from the end. Sums run in double. When t requires grad the\n" ..
   "sum of all elements is a one-element tensor, so that loss:backward() works;\n" ..
   "the other reductions do the same."},
  {"tensors", "Tensor:mean", "t:mean([dim [, keepdim]])", "The mean, of all elements or along dim."},
  {"tensors", "Tensor:prod", "t:prod([dim [, keepdim]])", "The product, of all elements or along dim."},
  {"tensors", "Tensor:max", "t:max([dim [, keepdim]]) -> values, indices",
   "The largest element and its 1-based flat index, or along dim a tensor of\n" ..
   "values and one of 1-based indices (of the first largest; NaN counts as the\n" ..
   "largest and propagates)."},
  {"tensors", "Tensor:min", "t:min([dim [, keepdim]]) -> values, indices",
   "The smallest element and its index, as t:max."},
  {"tensors", "Tensor:argmax", "t:argmax([dim [, keepdim]])",
   "The 1-based position of the first largest element: a flat index without dim,\n" ..
   "else a tensor of indices along dim."},
  {"tensors", "Tensor:argmin", "t:argmin([dim [, keepdim]])",
   "The 1-based position of the first smallest element, as t:argmax."},
  {"tensors", "Tensor:var", "t:var([dim [, keepdim]] [, {correction = 1}])",
   "The variance, sum((x - mean)^2) / (n - correction); correction 1 (Bessel's,\n" ..
   "as PyTorch) unless given; {unbiased = false} is correction 0."},
  {"tensors", "Tensor:std", "t:std([dim [, keepdim]] [, {correction = 1}])",
   "The standard deviation: the square root of t:var."},
  {"tensors", "Tensor:norm", "t:norm([p [, dim [, keepdim]]])",
   "The p-norm (sum |x|^p)^(1/p), p > 0 (default 2); p = math.huge or \"inf\" gives\n" ..
   "max |x|. Of all elements (a number) or along dim."},
  {"tensors", "Tensor:cumsum", "t:cumsum(dim)", "Cumulative sums along dim (the same shape)."},
  {"tensors", "Tensor:logsumexp", "t:logsumexp([dim [, keepdim]])",
   "log(sum(exp(x))), computed stably, of all elements or along dim."},
  {"tensors", "Tensor:softmax", "t:softmax([dim])",
   "exp(x) / sum(exp(x)) along dim (default the last), computed stably."},
  {"tensors", "Tensor:log_softmax", "t:log_softmax([dim])",
   "x - logsumexp(x) along dim (default the last)."},
  {"tensors", "Tensor:map", "t:map(f)", "A new tensor of f(x) for every element x; f must return a number."},
  {"tensors", "Tensor:apply", "t:apply(f) -> t", "Replaces every element x by f(x), in place."},
  {"tensors", "Tensor:close", "t:close() / local t <close> = ...",
   "Frees the tensor's memory now instead of at collection; views stay valid."},
  {"tensors", "Tensor:tostring", "tostring(t) / print(t)",
   "numpy-style text; tensors of more than 100 elements show their edges and shape."},
  -- runtime
  {"runtime", "nn.seed", "nn.seed(n)", "Seeds the random numbers of nn.rand, nn.randn and initializers."},
  {"runtime", "nn.threads", "nn.threads([n]) -> n",
   "Sets (1..256) and returns the number of threads of the math core. Results do\n" ..
   "not depend on it. $NNLUA_THREADS sets it at start."},
  {"runtime", "nn.cpu", "nn.cpu() -> {isa=, best=, threads=, supported=}",
   "The instruction set in use, the best this CPU has, the thread count and the\n" ..
   "levels this CPU supports. $NNLUA_ISA (scalar, sse2, avx2, avx512) forces a\nlower one."},
  {"runtime", "nn.clock", "nn.clock() -> seconds",
   "Wall-clock seconds from a fixed start (monotonic): nn.clock() - t0 times code.\n" ..
   "os.clock() counts the CPU time of every thread instead."},
  {"runtime", "nn.version", "nn.version", "The version string."},
  {"runtime", "nn.help", "nn.help([x])",
   "Prints the entry of x (a function, a name, a value), or lists the topics."},
  -- data
  {"data", "nn.data.csv", "nn.data.csv(path, opts) -> x, y, info",
   "A numeric CSV. opts.header, opts.label (name, index or false), opts.sep,\n" ..
   "opts.classes. String labels become class indices 1..k (info.classes)."},
  {"data", "nn.data.idx", "nn.data.idx(path)", "An IDX file, plain or .gz, as a tensor."},
  {"data", "nn.data.fashion_mnist", "nn.data.fashion_mnist([opts])",
   "{x_train, y_train, x_test, y_test, classes}; pixels in 0..1, x as N x 784.\n" ..
   "opts.flatten = false gives images N x 28 x 28 x 1 (for Conv2D);\n" ..
   "opts.path: the folder of the IDX files (default: Debian's dataset-fashion-mnist);\n" ..
   "opts.split = \"train\" or \"test\" reads only that half (the other's fields are nil)."},
  {"data", "nn.data.iris", "nn.data.iris() -> x, y", "The iris data set (shipped)."},
  {"data", "nn.data.digits", "nn.data.digits([opts]) -> x, y",
   "The 8x8 digits data set (shipped): x 1797 x 64 (pixels 0..16), y classes 1..10.\n" ..
   "opts.flatten = false gives images 1797 x 8 x 8 x 1 (for Conv2D)."},
  {"data", "nn.data.xor", "nn.data.xor()", "The XOR truth table."},
  {"data", "nn.data.spiral", "nn.data.spiral(n, classes)", "Interleaved spirals."},
  {"data", "nn.data.moons", "nn.data.moons(n, noise)", "Two half moons."},
  {"data", "nn.data.sine", "nn.data.sine(n)", "Points of a sine wave."},
  {"data", "nn.data.one_hot", "nn.data.one_hot(y, k)", "Class indices 1..k as one-hot rows."},
  {"data", "nn.data.split", "nn.data.split(x, y, frac) -> x_train, y_train, x_test, y_test",
   "A seeded shuffle, then the first frac for training."},
  {"data", "nn.data.standardize", "nn.data.standardize(x [, mean, std]) -> x, mean, std",
   "Zero mean and unit variance per feature (a column, or a pixel and channel of images)."},
  {"data", "nn.data.shuffle", "nn.data.shuffle(x, y)", "Shuffles rows of x and y together."},
  -- models
  {"models", "nn.Sequential", "nn.Sequential([{layer, ...}])", "A stack of layers; model:add(layer) appends."},
  {"models", "model:add", "model:add(layer)", "Appends a layer."},
  {"models", "model:compile", "model:compile{loss=, optimizer=, metrics={...}}",
   "Chooses the loss, optimizer (name or nn.optimizers object) and metrics."},
  {"models", "model:fit", "model:fit(x, y, opts) -> history",
   "Trains. opts: epochs, batch_size, shuffle, validation_split, validation_data,\n" ..
   "verbose, callbacks, initial_epoch. Ctrl-C stops cleanly."},
  {"models", "model:evaluate", "model:evaluate(x, y, opts) -> loss, metrics", "Loss and metrics on data."},
  {"models", "model:predict", "model:predict(x, opts) -> tensor",
   "Batched inference. opts.batch_size (32); opts.upto = i gives the output of\n" ..
   "layer i instead (what nn.plot.feature_maps draws)."},
  {"models", "model:summary", "model:summary()", "Prints (and returns) the layer table."},
  {"models", "model:save", "model:save(path) / nn.load(path)", "A safetensors model file."},
  {"models", "model:get_weights", "model:get_weights() / model:set_weights(list)", "The weights as tensors."},
  {"models", "model:set_weights", "model:set_weights(list)",
   "Sets the weights from a list like get_weights gives (same shapes)."},
  {"models", "model:count_params", "model:count_params()", "The number of weights."},
  {"models", "model:get_learning_rate", "model:get_learning_rate() / model:set_learning_rate(lr)",
   "The compiled optimizer's learning rate."},
  {"models", "model:set_learning_rate", "model:set_learning_rate(lr)",
   "Changes the compiled optimizer's learning rate."},
  -- layers and optimizers: generated from nn.registry below
  {"training", "nn.optimizers", "nn.optimizers.SGD{} / Adam{} / AdamW{} / RMSprop{} / Adagrad{}",
   "Optimizers with Keras options (lr, momentum, beta1, beta2, epsilon, ...)."},
  {"training", "nn.callbacks.LearningRateScheduler",
   "nn.callbacks.LearningRateScheduler(function(epoch, lr) return lr end)",
   "Sets the learning rate before each epoch; logs learning_rate."},
  {"training", "nn.callbacks.CSVLogger", "nn.callbacks.CSVLogger(path, {separator=\",\", append=false})",
   "Writes the epoch logs to a CSV file, a row per epoch."},
  {"training", "nn.callbacks.TerminateOnNaN", "nn.callbacks.TerminateOnNaN()",
   "Stops fit when the loss becomes NaN or infinite."},
  {"training", "nn.callbacks", "nn.callbacks.EarlyStopping{} / ModelCheckpoint{} / ...",
   "Callbacks for fit; any table with on_epoch_end(epoch, logs) etc. is one."},
  {"training", "nn.callbacks.EarlyStopping",
   "nn.callbacks.EarlyStopping{monitor=\"val_loss\", patience=0, min_delta=0, restore_best_weights=false}",
   "Stops fit when the monitored value has not improved for patience epochs."},
  {"training", "nn.callbacks.ModelCheckpoint", "nn.callbacks.ModelCheckpoint{path, monitor=, save_best_only=}",
   "Saves the model (model:save) after each epoch, or only when the monitored\n" ..
   "value improved; path may hold {epoch}."},
  {"training", "nn.callbacks.LivePlot", "nn.callbacks.LivePlot{title=, file=, every=, interval=1, logy=}",
   "Redraws loss and metrics during fit in one gnuplot (window, file or text);\n" ..
   "training never waits for it. live:wait() waits for the last frame."},
  {"models", "nn.load", "nn.load(path) -> model",
   "Reads a model file written by model:save (weights, layers, compile settings,\n" ..
   "optimizer state); runs no code from the file."},
  -- plots
  {"plots", "nn.plot.history", "nn.plot.history(h, opts) / history:plot(opts)",
   "Loss and every metric per epoch, a panel each; training solid, validation\n" ..
   "dashed. opts.logy: log y axis (not for accuracy, precision, recall).\n" ..
   "Every plot takes opts.file (.png .svg .pdf .txt; none: a window or text),\n" ..
   "script (keep the gnuplot script), title, xlabel, ylabel, width, height."},
  {"plots", "nn.plot.model", "nn.plot.model(model, opts)",
   "The network as columns of neurons; edges by weight sign (blue +, orange -)\n" ..
   "and size. opts.max_neurons (32): larger layers are elided; opts.weights\n" ..
   "= false draws the structure only. Convolution and pooling layers (and an\n" ..
   "image input) are blocks of feature maps labelled with their output shape."},
  {"plots", "nn.plot.decision_boundary", "nn.plot.decision_boundary(model, x, y, opts)",
   "Class regions of a model with 2 inputs and the points of x (n x 2) by y.\n" ..
   "opts.resolution (300 per side), opts.padding (0.1), opts.classes (names)."},
  {"plots", "nn.plot.weights", "nn.plot.weights(layer_or_tensor, opts)",
   "A heat map of a Dense kernel (or of a model's opts.layer-th layer with a\n" ..
   "kernel). opts.image = {h, w}: each unit's weights as an h x w picture, at\n" ..
   "most opts.max_tiles (100). A convolution layer: its filters as small images,\n" ..
   "one per filter with one input channel, else a row per filter with a tile\n" ..
   "per input channel (opts.max_channels, 8), or opts.channels = \"mean\": their\n" ..
   "mean; opts.max_tiles filters (64, or 16 in rows)."},
  {"plots", "nn.plot.feature_maps", "nn.plot.feature_maps(model, x, layer, opts)",
   "What each filter of a convolution or pooling layer (an index or the layer)\n" ..
   "gives for one input x ({h, w, c} or {1, h, w, c}): a tile per channel on one\n" ..
   "scale (white lowest); opts.max_tiles (64)."},
  {"plots", "nn.plot.confusion", "nn.plot.confusion(model, x, y, opts)",
   "The confusion matrix of the model on x against labels y; opts.classes names."},
  {"plots", "nn.plot.lines", "nn.plot.lines(xs, ys, opts)",
   "Lines: ys a list or tensor, a list of them, or a 2-D tensor (a line per\n" ..
   "column); xs may be nil. opts.names, opts.logy."},
  {"plots", "nn.plot.scatter", "nn.plot.scatter(x, y, opts)",
   "Points: x and y coordinates, or an n x 2 tensor and class labels that\n" ..
   "colour them (opts.class_names)."},
  {"plots", "nn.plot.hist", "nn.plot.hist(t, opts)",
   "A histogram of a list or tensor; opts.bins (default by Sturges' rule)."},
}

-- The short name of an entry: what follows the last '.' or ':'.
-- Entries of the parts of nn that keep their help beside their code
-- (lua/8x_help_*.lua files append {topic, name, usage, text} to
-- nn._help_extra, which runs before this file): one list with the rest.
for _, e in ipairs(nn._help_extra or {}) do
  entries[#entries + 1] = e
end
nn._help_extra = nil
nn._plotkit = nil

local function short(name)
  return name:match("[.:]([%w_]+)$") or name
end

local function format_entry(e)
  return e[3] .. "\n  " .. e[4]:gsub("\n", "\n  ")
end

local function format_topic(topic)
  local lines = {}
  for _, t in ipairs(topics) do
    if t[1] == topic then lines[1] = topic .. ": " .. t[2] end
  end
  for _, e in ipairs(entries) do
    if e[1] == topic then
      lines[#lines + 1] = "  " .. e[3]
    end
  end
  return table.concat(lines, "\n")
end


-- The entries of the layer kinds and optimizers, from the C tables
-- (nn.registry): usage, help and every option with its default.
local function option_lines(options, skip)
  local lines = {}
  for _, o in ipairs(options) do
    if not (skip and skip[o.key]) then
      local d = o.required and "required" or ("default " .. o.default)
      local line = string.format("  %-26s %s (%s)", o.key, o.help, d)
      if o.alias then line = line .. "; also " .. o.alias:gsub("|", ", ") end
      lines[#lines + 1] = line
      if o.choices then lines[#lines + 1] = string.format("  %-26s one of: %s", "", o.choices) end
    end
  end
  return lines
end

do
  local kinds = {}
  for name in pairs(nn.registry.layers) do kinds[#kinds + 1] = name end
  table.sort(kinds)
  for _, name in ipairs(kinds) do
    local k = nn.registry.layers[name]
    local args, skip = {}, {}
    for i = 1, k.npositional do
      args[#args + 1] = k.options[i].key
      skip[k.options[i].key] = true
    end
    args[#args + 1] = "opts"
    local text = {k.help, "Options (also name, input_shape or input_dim):"}
    for _, l in ipairs(option_lines(k.options)) do text[#text + 1] = l end
    entries[#entries + 1] = {"layers", "nn." .. name,
                             "nn." .. name .. "(" .. table.concat(args, ", ") .. ")",
                             table.concat(text, "\n")}
  end
  local opts = {}
  for class in pairs(nn.registry.optimizers) do opts[#opts + 1] = class end
  table.sort(opts)
  for _, class in ipairs(opts) do
    local d = nn.registry.optimizers[class]
    local defs = {}
    for _, o in ipairs(d.options) do defs[#defs + 1] = o.key .. "=" .. o.default end
    local text = {d.help .. " (compile{optimizer = \"" .. d.name .. "\"} takes the defaults.)"}
    for _, l in ipairs(option_lines(d.options)) do text[#text + 1] = l end
    entries[#entries + 1] = {"training", "nn.optimizers." .. class,
                             "nn.optimizers." .. class .. "{" .. table.concat(defs, ", ") .. "}",
                             table.concat(text, "\n")}
  end
end

local function format_topics()
  local lines = {"nn " .. tostring(nn.version) .. ": nn.help(x) for any function, name or value.",
                 "Topics (nn.help(\"topic\")):"}
  for _, t in ipairs(topics) do
    lines[#lines + 1] = string.format("  %-10s %s", t[1], t[2])
  end
  return table.concat(lines, "\n")
end

-- The full name ("nn.zeros", "Tensor:sum", "nn.data.csv", "model:fit") of
-- function f, by searching where nn keeps its functions.
local function name_of(f)
  local places = {{nn, "nn."}, {nn.Tensor, "Tensor:"}, {nn.data, "nn.data."},
                  {nn.plot, "nn.plot."}, {nn.optimizers, "nn.optimizers."},
                  {nn.callbacks, "nn.callbacks."}}
  for _, p in ipairs(places) do
    if type(p[1]) == "table" then
      for k, v in pairs(p[1]) do
        if rawequal(v, f) and type(k) == "string" then
          -- nn.fit is model:fit (every model method is also nn.f)
          if p[2] == "nn." then
            for _, e in ipairs(entries) do
              if e[2] == "model:" .. k then return e[2] end
            end
          end
          return p[2] .. k
        end
      end
    end
  end
end

-- The entries matching a name given by the user: exact, or by short name
-- ("zeros", "t:sum", "Tensor.sum", "fit").
local function find(name)
  for _, e in ipairs(entries) do
    if e[2] == name then return {e} end
  end
  local s = short(name)
  local found = {}
  for _, e in ipairs(entries) do
    if short(e[2]) == s then found[#found + 1] = e end
  end
  return found
end

-- The help text for x, or nil and a reason.
local function help_text(x)
  if x == nil then return format_topics() end
  if type(x) == "string" then
    for _, t in ipairs(topics) do
      if t[1] == x then return format_topic(x) end
    end
  elseif type(x) == "function" then
    local n = name_of(x)
    if not n then return nil, "no help for this function (not part of nn)" end
    x = n
  elseif getmetatable(x) and getmetatable(x).__name == "nn.Tensor" then
    return format_topic("tensors")
  elseif rawequal(x, nn) then
    return format_topics()
  elseif rawequal(x, nn.data) then
    return format_topic("data")
  elseif rawequal(x, nn.plot) then
    return format_topic("plots")
  elseif rawequal(x, nn.optimizers) or rawequal(x, nn.callbacks) then
    return format_topic("training")
  elseif getmetatable(x) and getmetatable(x).__name == "nn.Layer" then
    x = "nn." .. x.type -- a layer: its kind's entry (from nn.registry.layers)
  elseif type(x) == "table" or type(x) == "userdata" then
    local s = tostring(x)
    if s:find("Sequential") or s:find("Model") then return format_topic("models") end
    return nil, "no help for " .. type(x) .. " values; nn.help() lists the topics"
  else
    return nil, "no help for " .. type(x) .. " values; nn.help() lists the topics"
  end
  local found = find(x)
  if #found == 0 then
    return nil, "no help for '" .. x .. "'; nn.help() lists the topics"
  end
  local parts = {}
  for i, e in ipairs(found) do parts[i] = format_entry(e) end
  return table.concat(parts, "\n\n")
end

-- nn.help([x]): prints the entry, topic or topic list; returns nothing so
-- that the REPL does not print it twice.
function nn.help(x)
  local text, why = help_text(x)
  print(text or why)
end
