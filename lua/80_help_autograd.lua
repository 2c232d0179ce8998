-- nn.help entries of autograd (src/bind/lnn_autograd.c, lua/40_autograd.lua);
-- lua/90_help.lua merges nn._help_extra into its table.
local nn = ...
nn._help_extra = nn._help_extra or {}
local add = function(e) nn._help_extra[#nn._help_extra + 1] = e end

add{"autograd", "Tensor:requires_grad", "t:requires_grad([flag]) -> t",
    "Marks t as a leaf whose gradient is wanted (flag false: no longer). Operations\n" ..
    "on it are recorded, and y:backward() fills t.grad. Read the flag as t.needs_grad."}
add{"autograd", "Tensor:backward", "y:backward([grad] [, {retain_graph = true}])",
    "Adds dy/dx into x.grad for every leaf x that y depends on. grad (y's shape)\n" ..
    "is needed unless y has one element. The graph's buffers are freed afterwards\n" ..
    "unless retain_graph is set."}
add{"autograd", "Tensor:detach", "t:detach()",
    "A tensor over the same storage outside every graph (as PyTorch's detach)."}
add{"autograd", "Tensor:grad", "t.grad / t.grad = nil",
    "The gradient summed into a leaf by backward (nil before); set nil to clear."}
add{"autograd", "nn.no_grad", "nn.no_grad(f, ...)",
    "Runs f(...) without recording operations and returns its results."}
add{"autograd", "nn.is_grad_enabled", "nn.is_grad_enabled()", "Whether operations are recorded."}
add{"autograd", "nn.set_grad_enabled", "nn.set_grad_enabled(flag) -> old",
    "Turns recording on or off; returns the previous setting."}
add{"autograd", "nn.grad", "nn.grad(f) -> df; df(params, ...) -> grads, value",
    "torch-autograd style: f takes a (nested) table of tensors first and returns a\n" ..
    "one-element tensor or a number; grads mirrors the table (zeros where f does\n" ..
    "not depend on a tensor). params are not changed: f sees leaves over their storage."}
add{"autograd", "nn.gradcheck", "nn.gradcheck(f, params, ...) -> ok, max_error",
    "Compares nn.grad(f) with central differences for every element (float32:\n" ..
    "ok when the largest relative error is at most 1e-2)."}
add{"models", "model:call", "model(x [, {training = bool}]) / layer(x [, ...])",
    "The forward of x (N x input shape), recorded on the tape when x or a weight\n" ..
    "requires grad, so y:backward() fills each weight's .grad. training (default\n" ..
    "false) selects Dropout and batch statistics; backward needs the layer not to\n" ..
    "have run again since the call."}
add{"models", "model:trainable_weights", "model:trainable_weights() -> {w, ...}",
    "The trainable weights as tensors sharing the model's storage (layer order);\n" ..
    "their .grad after a backward. Also layer:trainable_weights(), layer.kernel."}
add{"models", "model:zero_grad", "model:zero_grad()", "Clears the .grad of every weight."}
add{"models", "model:train_on_batch", "model:train_on_batch(x, y) -> loss, metrics",
    "One training step of fit on the whole batch x, y (compiled model)."}
add{"models", "model:test_on_batch", "model:test_on_batch(x, y) -> loss, metrics",
    "The loss and metrics of the batch x, y in inference mode."}
add{"training", "Optimizer:step", "opt:step(weights) / opt:zero_grad(weights)",
    "Applies each weight's .grad by opt's rule (nn.optimizers objects keep their\n" ..
    "state; model.optimizer uses the compiled model's, shared with fit). Weight i\n" ..
    "of the list is state i: pass the same list each step."}
add{"training", "nn.losses", "nn.losses.mse(y_true, y_pred) (and every loss name)",
    "The built-in losses as functions: a one-element tensor, recorded on the tape\n" ..
    "(loss:backward() gives y_pred's gradient). Names: mse, mae, huber,\n" ..
    "binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy\n" ..
    "(and mean_squared_error, mean_absolute_error)."}
add{"layers", "nn.Layer", "nn.Layer{name =, init =, build =, call =, get_config =} -> class",
    "A layer written in Lua. call(self, x, training) maps a batch to a batch with\n" ..
    "tensor operations (its gradient comes from autograd); build(self, input_shape)\n" ..
    "makes weights with self:add_weight{name =, shape =, initializer =, trainable =};\n" ..
    "init(self, opts) reads Class{opts}. Usable in Sequential, fit, summary, model(x)."}
add{"training", "nn.callbacks.GradientLogger", "nn.callbacks.GradientLogger{every = \"epoch\"}",
    "Records each layer's gradient norm during fit (the mean per epoch, or every\n" ..
    "batch with every = \"batch\") into logger.history; draw it with\n" ..
    "nn.plot.gradients(logger) to see gradients vanish or explode."}
add{"models", "model:gradient_norms", "model:gradient_norms() -> {{name =, norm =}, ...}",
    "The 2-norm of each layer's weight gradients of the last training step."}
add{"plots", "nn.plot.gradients", "nn.plot.gradients(logger_or_history, opts)",
    "Per-layer gradient norms over training, one line per layer on a log scale\n" ..
    "(opts.logy = false: linear)."}
add{"plots", "nn.plot.graph", "nn.plot.graph(t, opts)",
    "The recorded operations behind t as boxes and arrows (inputs left, t right):\n" ..
    "operation, shape and, after a backward, the norm of the gradient through it.\n" ..
    "opts.max_nodes (60) caps the drawing."}
add{"plots", "nn.plot.activations", "nn.plot.activations(names, opts)",
    "Activation functions (a name or a list; default sigmoid, tanh, relu,\n" ..
    "leaky_relu) and their derivatives by autograd, over opts.range ({-4, 4});\n" ..
    "opts.derivative = false draws the functions alone."}
