-- nn.help entries of nn.explain (lua/50_explain.lua); lua/90_help.lua
-- merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add
nn._help_add_topic{"explain", "nn.explain: one sample step by step (forward, backward, step)",
                   after = "plots"}

add{"explain", "nn.explain.forward", "nn.explain.forward(model, x [, opts]) -> text, info",
    "Prints, for one sample x (a list, a 1-D tensor, or the first row of a batch),\n" ..
    "each layer's formula with its numbers: for a Dense layer z = W x + b with W,\n" ..
    "x, b and z in full when units * inputs <= 32 (W is kernel^T: row j is unit\n" ..
    "j's weights), shapes and a few values when larger, then a = f(z) with f's\n" ..
    "formula; other layers their help, options, weights and values. Ends with the\n" ..
    "output and, for sigmoid or softmax, the predicted class. At most 80 columns;\n" ..
    "opts.print = false only returns the text. info.output is the output tensor.",
    example = [[
local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                        nn.Dense(1, {activation = "sigmoid"})}
nn.explain.forward(m, {1, 0})]]}
add{"explain", "nn.explain.backward", "nn.explain.backward(model, x, y [, opts]) -> text, info",
    "The loss of one sample (the compiled loss, its formula from nn.registry) and\n" ..
    "its gradients from the output back: dL/da, dL/dz = dL/da * f'(z), dL/dW =\n" ..
    "dL/dz x^T, dL/db and dL/dx = W^T dL/dz, each from the layer's own backward,\n" ..
    "so they are the gradients training applies (regularizers included). Inference\n" ..
    "mode: Dropout passes gradients unchanged. info.layers[i].grads.kernel and the\n" ..
    "like hold the gradients as tensors (layout of the weights).",
    example = [[
local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                        nn.Dense(1, {activation = "sigmoid"})}
m:compile{loss = "binary_crossentropy", optimizer = "sgd"}
nn.explain.backward(m, {1, 0}, 1)]]}
add{"explain", "nn.explain.step", "nn.explain.step(model, x, y [, {apply = true}]) -> text, info",
    "One update of the model's optimizer on the sample x, y, taken exactly as\n" ..
    "model:train_on_batch would take it: the rule (w - lr * g for SGD; m, v and\n" ..
    "lr_t for Adam, ...), then for every weight its old value, gradient, state,\n" ..
    "change and new value, one element worked through, and the loss before and\n" ..
    "after. opts.apply = false shows the step without changing the model.",
    example = [[
local m = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "relu"}),
                        nn.Dense(1, {activation = "sigmoid"})}
m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.5}}
nn.explain.step(m, {1, 0}, 1)]]}
