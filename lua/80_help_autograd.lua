-- nn.help entries of autograd (src/bind/lnn_autograd.c, lua/40_autograd.lua);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"autograd", "Tensor:requires_grad", "t:requires_grad([flag]) -> t",
    "Marks t as a leaf whose gradient is wanted (flag false: no longer). Operations\n" ..
    "on it are recorded, and y:backward() fills t.grad. Read the flag as t.needs_grad.",
    example = [[
local w = nn.tensor{1, 2, 3}:requires_grad()
local loss = (w * w):sum()
loss:backward()
print(w.needs_grad, w.grad) -- 2w]]}
add{"autograd", "Tensor:backward", "y:backward([grad] [, {retain_graph = true}])",
    "Adds dy/dx into x.grad for every leaf x that y depends on. grad (y's shape)\n" ..
    "is needed unless y has one element. The graph's buffers are freed afterwards\n" ..
    "unless retain_graph is set.",
    example = [[
local x = nn.tensor{{1, 2}, {3, 4}}:requires_grad()
local y = x:exp()
y:backward(nn.ones(2, 2)) -- y has 4 elements: give dL/dy
print(x.grad)             -- exp(x)]]}
add{"autograd", "Tensor:detach", "t:detach()",
    "A tensor over the same storage outside every graph (as PyTorch's detach).",
    example = [[
local w = nn.tensor{2}:requires_grad()
local c = (w * 3):detach() -- a constant now
local y = (w * c):sum()
y:backward()
print(w.grad) -- 6, not 12]]}
add{"autograd", "Tensor:grad", "t.grad / t.grad = nil",
    "The gradient summed into a leaf by backward (nil before); set nil to clear.",
    example = [[
local w = nn.tensor{1, 2}:requires_grad()
;(w * 5):sum():backward()
print(w.grad)
w.grad = nil -- clear before the next backward]]}
add{"autograd", "nn.no_grad", "nn.no_grad(f, ...)",
    "Runs f(...) without recording operations and returns its results.",
    example = [[
local w = nn.ones(2):requires_grad()
local y = nn.no_grad(function() return w * 2 end)
print(y.needs_grad) -- false: nothing recorded]]}
add{"autograd", "nn.is_grad_enabled", "nn.is_grad_enabled()", "Whether operations are recorded.",
    example = [[
print(nn.is_grad_enabled())
print(nn.no_grad(nn.is_grad_enabled))]]}
add{"autograd", "nn.set_grad_enabled", "nn.set_grad_enabled(flag) -> old",
    "Turns recording on or off; returns the previous setting.",
    example = [[
local old = nn.set_grad_enabled(false)
print(nn.is_grad_enabled())
nn.set_grad_enabled(old)]]}
add{"autograd", "nn.grad", "nn.grad(f) -> df; df(params, ...) -> grads, value",
    "torch-autograd style: f takes a (nested) table of tensors first and returns a\n" ..
    "one-element tensor or a number; grads mirrors the table (zeros where f does\n" ..
    "not depend on a tensor). params are not changed: f sees leaves over their storage.",
    example = [[
local df = nn.grad(function(p, x) return ((p.w * x):sum() + p.b):sum() end)
local grads, value = df({w = nn.tensor{1, 2}, b = nn.tensor{0.5}}, nn.tensor{3, 4})
print(grads.w, grads.b, value) -- x, 1, 11.5]]}
add{"autograd", "nn.gradcheck", "nn.gradcheck(f, params, ...) -> ok, max_error",
    "Compares nn.grad(f) with central differences for every element (float32:\n" ..
    "ok when the largest relative error is at most 1e-2).",
    example = [[
local ok, err = nn.gradcheck(function(p) return (p[1]:tanh() * p[1]):sum() end,
                             {nn.tensor{0.1, -0.5, 1}})
print(ok, err)]]}
add{"models", "model:call", "model(x [, {training = bool}]) / layer(x [, ...])",
    "The forward of x (N x input shape), recorded on the tape when x or a weight\n" ..
    "requires grad, so y:backward() fills each weight's .grad. training (default\n" ..
    "false) selects Dropout and batch statistics; backward needs the layer not to\n" ..
    "have run again since the call.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
local out = model(x) -- 4 x 1, recorded
local loss = nn.losses.binary_crossentropy(y, out)
loss:backward()
print(model:trainable_weights()[1].grad)]]}
add{"models", "model:trainable_weights", "model:trainable_weights() -> {w, ...}",
    "The trainable weights as tensors sharing the model's storage (layer order);\n" ..
    "their .grad after a backward. Also layer:trainable_weights(), layer.kernel.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
for i, w in ipairs(model:trainable_weights()) do print(i, table.concat(w:size(), "x")) end]]}
add{"models", "model:zero_grad", "model:zero_grad()", "Clears the .grad of every weight.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
nn.losses.mse(y, model(x)):backward()
model:zero_grad()
print(model:trainable_weights()[1].grad)]]}
add{"models", "model:train_on_batch", "model:train_on_batch(x, y) -> loss, metrics",
    "One training step of fit on the whole batch x, y (compiled model).",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
for step = 1, 3 do print(step, model:train_on_batch(x, y)) end]]}
add{"models", "model:test_on_batch", "model:test_on_batch(x, y) -> loss, metrics",
    "The loss and metrics of the batch x, y in inference mode.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
print(model:test_on_batch(x, y))]]}
add{"optimizers", "Optimizer:step", "opt:step(weights) / opt:zero_grad(weights)",
    "Applies each weight's .grad by opt's rule (nn.optimizers objects keep their\n" ..
    "state; model.optimizer uses the compiled model's, shared with fit). Weight i\n" ..
    "of the list is state i: pass the same list each step.",
    example = [[
-- gradient descent by hand on f(w) = sum(w^2)
local opt = nn.optimizers.SGD{lr = 0.1}
local w = {nn.tensor{1, -2}:requires_grad()}
for _ = 1, 3 do
  opt:zero_grad(w)
  ;(w[1] * w[1]):sum():backward()
  opt:step(w)
end
print(w[1], opt:iterations()) -- 0.8^3 * w]]}
add{"losses", "nn.losses", "nn.losses.<name>(y_true, y_pred) -> loss",
    "The built-in losses as functions, one for each name (and alias) of\n" ..
    "nn.help(\"losses\"): a one-element tensor, recorded on the tape\n" ..
    "(loss:backward() gives y_pred's gradient).",
    example = [[
local y_true = nn.tensor{{0, 1}}
local y_pred = nn.tensor{{0.2, 0.8}}:requires_grad()
local loss = nn.losses.categorical_crossentropy(y_true, y_pred)
loss:backward()
print(loss, y_pred.grad)
print(nn.losses.mse(nn.tensor{1, 2}, nn.tensor{1, 4})) -- (0 + 4) / 2]]}
add{"layers", "nn.Layer", "nn.Layer{name =, init =, build =, call =, get_config =} -> class",
    "A layer written in Lua. call(self, x, training) maps a batch to a batch with\n" ..
    "tensor operations (its gradient comes from autograd); build(self, input_shape)\n" ..
    "makes weights with self:add_weight{name =, shape =, initializer =, trainable =};\n" ..
    "init(self, opts) reads Class{opts}. Usable in Sequential, fit, summary, model(x).",
    example = [[
local Scale = nn.Layer{
  name = "Scale",
  build = function(self, input_shape)
    self.w = self:add_weight{name = "w", shape = {input_shape[#input_shape]},
                             initializer = "ones"}
  end,
  call = function(self, x) return x * self.w end,
}
local model = nn.Sequential{nn.Dense(3, {input_dim = 2}), Scale{}}
model:summary()
print(model(nn.rand(4, 2)):shape())]]}
add{"callbacks", "nn.callbacks.GradientLogger", "nn.callbacks.GradientLogger{every = \"epoch\"}",
    "Records each layer's gradient norm during fit (the mean per epoch, or every\n" ..
    "batch with every = \"batch\") into logger.history; draw it with\n" ..
    "nn.plot.gradients(logger) to see gradients vanish or explode.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
local logger = nn.callbacks.GradientLogger{}
model:fit(x, y, {epochs = 5, verbose = 0, callbacks = {logger}})
print(#logger.history.steps, logger.history.layers[1])]]}
add{"models", "model:gradient_norms", "model:gradient_norms() -> {{name =, norm =}, ...}",
    "The 2-norm of each layer's weight gradients of the last training step.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
model:train_on_batch(x, y)
for _, g in ipairs(model:gradient_norms()) do print(g.name, g.norm) end]]}
add{"plots", "nn.plot.gradients", "nn.plot.gradients(logger_or_history, opts)",
    "Per-layer gradient norms over training, one line per layer on a log scale\n" ..
    "(opts.logy = false: linear).",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
local logger = nn.callbacks.GradientLogger{}
model:fit(x, y, {epochs = 10, verbose = 0, callbacks = {logger}})
local file = os.tmpname() .. ".png"
nn.plot.gradients(logger, {file = file})
os.remove(file)]]}
add{"plots", "nn.plot.graph", "nn.plot.graph(t, opts)",
    "The recorded operations behind t as boxes and arrows (inputs left, t right):\n" ..
    "operation, shape and, after a backward, the norm of the gradient through it.\n" ..
    "opts.max_nodes (60) caps the drawing.",
    example = [[
local w = nn.tensor{{0.5, -1}}:requires_grad()
local loss = (w:matmul(nn.tensor{1, 2}):sigmoid()):sum()
loss:backward()
local file = os.tmpname() .. ".png"
nn.plot.graph(loss, {file = file})
os.remove(file)]]}
add{"plots", "nn.plot.activations", "nn.plot.activations(names, opts)",
    "Activation functions (a name or a list; default sigmoid, tanh, relu,\n" ..
    "leaky_relu) and their derivatives by autograd, over opts.range ({-4, 4});\n" ..
    "opts.derivative = false draws the functions alone.",
    example = [[
local file = os.tmpname() .. ".png"
nn.plot.activations({"relu", "tanh"}, {file = file, range = {-3, 3}})
os.remove(file)]]}
