-- nn.help entries of models, optimizers and callbacks (src/bind/lnn_model*.c, lua/2N_*.lua);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"models", "nn.Sequential", "nn.Sequential([{layer, ...}])", "A stack of layers; model:add(layer) appends.",
    example = [[
local model = nn.Sequential{nn.Dense(8, {activation = "relu", input_dim = 2}),
                            nn.Dense(1)}
model:add(nn.Activation("sigmoid"))
print(model(nn.rand(3, 2)))]]}

add{"models", "model:add", "model:add(layer)", "Appends a layer.",
    example = [[
local model = nn.Sequential()
model:add(nn.Dense(4, {input_dim = 3}))
model:add(nn.Dense(2))
print(model:count_params()) -- 16 + 10]]}

add{"models", "model:compile", "model:compile{loss=, optimizer=, metrics={...}}",
    "Chooses the loss, optimizer (name or nn.optimizers object) and metrics.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
model:compile{loss = "mse", optimizer = nn.optimizers.SGD{lr = 0.1, momentum = 0.9}}
print(model:evaluate(x, y))]]}

add{"models", "model:fit", "model:fit(x, y, opts) -> history",
    "Trains. opts: epochs, batch_size, shuffle, validation_split, validation_data,\n" ..
    "verbose, callbacks, initial_epoch. Ctrl-C stops cleanly.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local history = model:fit(x, y, {epochs = 20, batch_size = 4, verbose = 0})
print(history, history.history.loss[20])]]}

add{"models", "model:evaluate", "model:evaluate(x, y, opts) -> loss, metrics", "Loss and metrics on data.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local loss, metrics = model:evaluate(x, y)
print(loss, metrics.accuracy)]]}

add{"models", "model:predict", "model:predict(x, opts) -> tensor",
    "Batched inference. opts.batch_size (32); opts.upto = i gives the output of\n" ..
    "layer i instead (what nn.plot.feature_maps draws).",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
print(model:predict(x))
print(model:predict(x, {upto = 1})) -- the hidden layer's output]]}

add{"models", "model:summary", "model:summary([{print = false}])",
    "Prints the layer table (as Keras; returns nothing, so the REPL shows it once);\n" ..
    "{print = false} returns the text instead.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
model:summary()
local text = model:summary{print = false}
print(#text > 0)]]}

add{"models", "model:save", "model:save(path) / nn.load(path)", "A safetensors model file.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local path = os.tmpname() .. ".safetensors"
model:save(path)
local same = nn.load(path)
print(same:predict(x) - model:predict(x)) -- zeros
os.remove(path)]]}

add{"models", "model:get_weights", "model:get_weights() / model:set_weights(list)", "The weights as tensors.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local w = model:get_weights()
print(#w, w[1]:shape()) -- kernel, bias of each Dense: 4, then 2 x 4]]}

add{"models", "model:set_weights", "model:set_weights(list)",
    "Sets the weights from a list like get_weights gives (same shapes).",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local w = model:get_weights()
w[1]:fill_(0)
model:set_weights(w)
print(model:get_weights()[1])]]}

add{"models", "model:count_params", "model:count_params()", "The number of weights.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
print(model:count_params()) -- 2*4+4 + 4*1+1 = 17]]}

add{"models", "model:get_learning_rate", "model:get_learning_rate() / model:set_learning_rate(lr)",
    "The compiled optimizer's learning rate.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
print(model:get_learning_rate()) -- adam: 0.001]]}

add{"models", "model:set_learning_rate", "model:set_learning_rate(lr)",
    "Changes the compiled optimizer's learning rate.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
model:set_learning_rate(0.01)
print(model:get_learning_rate())]]}

add{"optimizers", "nn.optimizers", "nn.optimizers.<Class>{opts}",
    "An optimizer object of a class of nn.help(\"optimizers\"), with Keras's option\n" ..
    "names and defaults (lr, momentum, beta1, beta2, epsilon, ...), for\n" ..
    "compile{optimizer = ...} or opt:step.",
    example = [[
local opt = nn.optimizers.Adam{lr = 0.01}
print(opt)
local model = nn.Sequential{nn.Dense(1, {input_dim = 3})}
model:compile{loss = "mse", optimizer = opt}]]}

add{"callbacks", "nn.callbacks.LearningRateScheduler",
    "nn.callbacks.LearningRateScheduler(function(epoch, lr) return lr end)",
    "Sets the learning rate before each epoch; logs learning_rate.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local halve = nn.callbacks.LearningRateScheduler(function(epoch, lr)
  return epoch > 2 and lr / 2 or lr
end)
local h = model:fit(x, y, {epochs = 4, verbose = 0, callbacks = {halve}})
print(table.concat(h.history.learning_rate, " "))]]}

add{"callbacks", "nn.callbacks.CSVLogger", "nn.callbacks.CSVLogger(path, {separator=\",\", append=false})",
    "Writes the epoch logs to a CSV file, a row per epoch.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local path = os.tmpname() .. ".csv"
model:fit(x, y, {epochs = 3, verbose = 0, callbacks = {nn.callbacks.CSVLogger(path)}})
print(io.open(path):read("a"))
os.remove(path)]]}

add{"callbacks", "nn.callbacks.TerminateOnNaN", "nn.callbacks.TerminateOnNaN()",
    "Stops fit when the loss becomes NaN or infinite.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
model:fit(x, y, {epochs = 2, verbose = 0, callbacks = {nn.callbacks.TerminateOnNaN()}})]]}

add{"callbacks", "nn.callbacks", "nn.callbacks.EarlyStopping{} / ModelCheckpoint{} / ...",
    "Callbacks for fit; any table with on_epoch_end(epoch, logs) etc. is one.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
-- any table with hooks is a callback
local seen = 0
local counter = {on_epoch_end = function(epoch, logs) seen = epoch end}
model:fit(x, y, {epochs = 3, verbose = 0,
                 callbacks = {counter, nn.callbacks.TerminateOnNaN()}})
print(seen)]]}

add{"callbacks", "nn.callbacks.EarlyStopping",
    "nn.callbacks.EarlyStopping{monitor=\"val_loss\", patience=0, min_delta=0, restore_best_weights=false}",
    "Stops fit when the monitored value has not improved for patience epochs.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local stop = nn.callbacks.EarlyStopping{monitor = "loss", patience = 2, min_delta = 0.1}
local h = model:fit(x, y, {epochs = 50, verbose = 0, callbacks = {stop}})
print(#h.epoch .. " epochs of 50")]]}

add{"callbacks", "nn.callbacks.ModelCheckpoint", "nn.callbacks.ModelCheckpoint{path, monitor=, save_best_only=}",
    "Saves the model (model:save) after each epoch, or only when the monitored\n" ..
    "value improved; path may hold {epoch}.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local dir = os.tmpname()
local ckpt = nn.callbacks.ModelCheckpoint{dir .. "-{epoch}.safetensors", monitor = "loss"}
model:fit(x, y, {epochs = 2, verbose = 0, callbacks = {ckpt}})
print(nn.load(dir .. "-2.safetensors"))
os.remove(dir .. "-1.safetensors"); os.remove(dir .. "-2.safetensors")]]}

add{"callbacks", "nn.callbacks.LivePlot", "nn.callbacks.LivePlot{title=, file=, every=, interval=1, logy=}",
    "Redraws loss and metrics during fit in one gnuplot (window, file or text);\n" ..
    "training never waits for it. live:wait() waits for the last frame.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local file = os.tmpname() .. ".png"
local live = nn.callbacks.LivePlot{file = file, title = "xor"}
model:fit(x, y, {epochs = 5, verbose = 0, callbacks = {live}})
live:wait()
os.remove(file)]]}

add{"models", "nn.load", "nn.load(path) -> model",
    "Reads a model file written by model:save (weights, layers, compile settings,\n" ..
    "optimizer state); runs no code from the file.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local path = os.tmpname() .. ".safetensors"
model:save(path)
local copy = nn.load(path)
copy:summary()
os.remove(path)]]}

add{"models", "history:plot", "history:plot(opts)",
    "nn.plot.history(history, opts): loss and metrics per epoch.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(1, {activation = "sigmoid", input_dim = 2})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local history = model:fit(x, y, {epochs = 10, verbose = 0})
local file = os.tmpname() .. ".png"
history:plot{file = file}
os.remove(file)]]}

add{"models", "history:last", "history:last([key]) -> number",
    "The value of key (default \"loss\") at the last epoch; nil when fit did not\n" ..
    "log it. history.history[key] is the list of every epoch, history.epoch their\n" ..
    "numbers.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(1, {activation = "sigmoid", input_dim = 2})}
model:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local history = model:fit(x, y, {epochs = 5, verbose = 0})
print(history:last(), history:last("accuracy"), #history.history.loss)]]}

add{"layers", "layer:get_weights", "layer:get_weights() -> {kernel, bias, ...}",
    "The weights of one layer as tensors (copies), in Keras's order; the layer\n" ..
    "must be built (in a model, or called once).",
    example = [[
local layer = nn.Dense(2, {input_dim = 3})
local model = nn.Sequential{layer}
local w = layer:get_weights()
print(w[1]:shape()) -- kernel 3 x 2
print(w[2])         -- bias: zeros]]}

add{"layers", "layer:set_weights", "layer:set_weights({kernel, bias, ...})",
    "Sets one layer's weights from tensors of the shapes get_weights gives.",
    example = [[
local layer = nn.Dense(1, {input_dim = 2})
local model = nn.Sequential{layer}
layer:set_weights{nn.tensor{{1}, {2}}, nn.tensor{0.5}}
print(model(nn.tensor{{1, 1}})) -- 1 + 2 + 0.5]]}

add{"layers", "layer:count_params", "layer:count_params()",
    "The number of weights of one layer.",
    example = [[
local layer = nn.Dense(4, {input_dim = 3})
local model = nn.Sequential{layer}
print(layer:count_params()) -- 3 * 4 + 4]]}

add{"layers", "layer:trainable_weights", "layer:trainable_weights() -> {w, ...}",
    "The layer's trainable weights as tensors sharing its storage (so .grad is\n" ..
    "there after a backward); also by name, as layer.kernel and layer.bias.",
    example = [[
local layer = nn.Dense(2, {input_dim = 2})
local model = nn.Sequential{layer}
local loss = model(nn.ones(1, 2)):sum()
loss:backward()
print(layer:trainable_weights()[1].grad, layer.bias)]]}

add{"optimizers", "Optimizer:zero_grad", "opt:zero_grad(weights)",
    "Clears the .grad of every tensor of the list (before the next backward).",
    example = [[
local opt = nn.optimizers.SGD{}
local w = {nn.ones(2):requires_grad()}
w[1]:sum():backward()
opt:zero_grad(w)
print(w[1].grad)]]}

add{"optimizers", "Optimizer:iterations", "opt:iterations()",
    "The number of opt:step calls so far (Adam's bias correction counts them).",
    example = [[
local opt = nn.optimizers.Adam{lr = 0.1}
local w = {nn.ones(2):requires_grad()}
for _ = 1, 3 do
  opt:zero_grad(w)
  w[1]:sum():backward()
  opt:step(w)
end
print(opt:iterations(), w[1])]]}
