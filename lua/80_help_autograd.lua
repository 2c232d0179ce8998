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
