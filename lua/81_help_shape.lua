-- nn.help entries of the shape operations (src/bind/lnn_tensor_shape.c);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"tensors", "Tensor:t", "t:t()", "The transpose of a 2-D tensor (a copy); a copy of a 1-D one.",
    example = [[
print(nn.tensor{{1, 2, 3}}:t())]]}
add{"tensors", "Tensor:transpose", "t:transpose(d1, d2)",
    "A copy with dimensions d1 and d2 swapped (negative counts from the end).",
    example = [[
print(nn.zeros(2, 3, 4):transpose(1, 3):shape()) -- 4 3 2]]}
add{"tensors", "Tensor:permute", "t:permute(d1, ...)",
    "A copy whose dimension i is t's dimension di; every dimension once.",
    example = [[
print(nn.zeros(2, 3, 4):permute(3, 1, 2):shape()) -- 4 2 3]]}
add{"tensors", "Tensor:narrow", "t:narrow(dim, start, len)",
    "Elements start..start+len-1 of dimension dim: a view for dim 1, else a copy.",
    example = [[
print(nn.arange(10):narrow(1, 3, 4)) -- 2 3 4 5]]}
add{"tensors", "Tensor:select", "t:select(dim, i)",
    "Entry i of dimension dim, that dimension removed: a view for dim 1, else a\n" ..
    "copy; a number for a 1-D tensor.",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}}
print(t:select(2, 1)) -- column 1: 1 3]]}
add{"tensors", "Tensor:slice", "t[{{a, b}, j, {}}] / t[{...}] = v",
    "Torch7-style slice: {a, b} an inclusive range (negative counts from the end),\n" ..
    "{a} one index kept as a dimension of size 1, j one index (dimension dropped),\n" ..
    "{} all; missing entries mean all. A view when only dimension 1 is restricted,\n" ..
    "else a copy; a number when every dimension gets an index. Assign a number or\n" ..
    "a tensor that broadcasts to the slice's shape.",
    example = [[
local t = nn.arange(12):reshape(3, 4)
print(t[{{2, 3}, {}}])   -- rows 2..3
print(t[{{}, -1}])        -- the last column
t[{1, {1, 2}}] = 0
print(t)]]}
add{"tensors", "Tensor:squeeze", "t:squeeze([dim])",
    "A view without the dimensions of size 1 (or just dim, when its size is 1).",
    example = [[
print(nn.zeros(1, 3, 1):squeeze():shape()) -- 3]]}
add{"tensors", "Tensor:unsqueeze", "t:unsqueeze(dim)",
    "A view with a dimension of size 1 inserted at position dim (1..ndim+1).",
    example = [[
print(nn.zeros(3):unsqueeze(1):shape()) -- 1 3]]}
add{"tensors", "Tensor:flatten", "t:flatten()", "A 1-D view of all elements.",
    example = [[
print(nn.eye(2):flatten())]]}
add{"tensors", "Tensor:view", "t:view(d1, ...)", "The same as t:reshape: a view with a new shape.",
    example = [[
print(nn.arange(6):view(3, 2))]]}
add{"tensors", "Tensor:split", "t:split(size [, dim])",
    "A list of pieces of size elements along dim (default 1; the last may be\n" ..
    "shorter): views for dim 1, else copies.",
    example = [[
for _, piece in ipairs(nn.arange(5):split(2)) do print(piece) end]]}
add{"tensors", "Tensor:chunk", "t:chunk(n [, dim])",
    "t:split(ceil(len / n), dim): at most n pieces.",
    example = [[
print(#nn.arange(10):chunk(3)) -- 3 pieces: 4, 4, 2]]}
add{"tensors", "Tensor:copy_", "t:copy_(src) -> t",
    "Copies src, broadcast to t's shape, into t (src may overlap t).",
    example = [[
local t = nn.zeros(2, 3)
t:copy_(nn.tensor{1, 2, 3}) -- broadcast to each row
print(t)]]}
add{"tensors", "nn.stack", "nn.stack({a, b, ...} [, dim])",
    "Joins tensors of one shape along a new dimension dim (default 1). A copy.",
    example = [[
print(nn.stack({nn.ones(2), nn.zeros(2)}))        -- 2 x 2
print(nn.stack({nn.ones(2), nn.zeros(2)}, 2):shape()) -- 2 2]]}
add{"tensors", "Tensor:index", "t:index(dim, idx)",
    "Gathers the slices at the 1-based indices idx (a tensor or table) along dim:\n" ..
    "a copy whose size along dim is #idx; indices may repeat (their gradients add).",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}, {5, 6}}
print(t:index(1, {3, 1, 3}))]]}
