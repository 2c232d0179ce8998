-- nn.help entries of the shape operations (src/bind/lnn_tensor_shape.c);
-- lua/90_help.lua merges nn._help_extra into its table.
local nn = ...
nn._help_extra = nn._help_extra or {}
local add = function(e) nn._help_extra[#nn._help_extra + 1] = e end

add{"tensors", "Tensor:t", "t:t()", "The transpose of a 2-D tensor (a copy); a copy of a 1-D one."}
add{"tensors", "Tensor:transpose", "t:transpose(d1, d2)",
    "A copy with dimensions d1 and d2 swapped (negative counts from the end)."}
add{"tensors", "Tensor:permute", "t:permute(d1, ...)",
    "A copy whose dimension i is t's dimension di; every dimension once."}
add{"tensors", "Tensor:narrow", "t:narrow(dim, start, len)",
    "Elements start..start+len-1 of dimension dim: a view for dim 1, else a copy."}
add{"tensors", "Tensor:select", "t:select(dim, i)",
    "Entry i of dimension dim, that dimension removed: a view for dim 1, else a\n" ..
    "copy; a number for a 1-D tensor."}
add{"tensors", "Tensor:slice", "t[{{a, b}, j, {}}] / t[{...}] = v",
    "Torch7-style slice: {a, b} an inclusive range (negative counts from the end),\n" ..
    "{a} one index kept as a dimension of size 1, j one index (dimension dropped),\n" ..
    "{} all; missing entries mean all. A view when only dimension 1 is restricted,\n" ..
    "else a copy; a number when every dimension gets an index. Assign a number or\n" ..
    "a tensor that broadcasts to the slice's shape."}
add{"tensors", "Tensor:squeeze", "t:squeeze([dim])",
    "A view without the dimensions of size 1 (or just dim, when its size is 1)."}
add{"tensors", "Tensor:unsqueeze", "t:unsqueeze(dim)",
    "A view with a dimension of size 1 inserted at position dim (1..ndim+1)."}
add{"tensors", "Tensor:flatten", "t:flatten()", "A 1-D view of all elements."}
add{"tensors", "Tensor:view", "t:view(d1, ...)", "The same as t:reshape: a view with a new shape."}
add{"tensors", "Tensor:split", "t:split(size [, dim])",
    "A list of pieces of size elements along dim (default 1; the last may be\n" ..
    "shorter): views for dim 1, else copies."}
add{"tensors", "Tensor:chunk", "t:chunk(n [, dim])",
    "t:split(ceil(len / n), dim): at most n pieces."}
add{"tensors", "Tensor:copy_", "t:copy_(src) -> t",
    "Copies src, broadcast to t's shape, into t (src may overlap t)."}
add{"tensors", "nn.stack", "nn.stack({a, b, ...} [, dim])",
    "Joins tensors of one shape along a new dimension dim (default 1). A copy."}
add{"tensors", "Tensor:index", "t:index(dim, idx)",
    "Gathers the slices at the 1-based indices idx (a tensor or table) along dim:\n" ..
    "a copy whose size along dim is #idx; indices may repeat (their gradients add)."}
