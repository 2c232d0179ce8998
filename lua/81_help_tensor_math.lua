-- nn.help entries of the element-wise tensor math (src/bind/lnn_tensor_math.c);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add
local bc = "x is a number or a tensor broadcast by numpy's rules (trailing sizes equal or 1)."

for _, e in ipairs{
  {"add_", "t:add_(x [, alpha]) -> t", "t = t + alpha * x in place (alpha default 1). "},
  {"sub_", "t:sub_(x) -> t", "t = t - x in place. "},
  {"mul_", "t:mul_(x) -> t", "t = t * x in place. "},
  {"div_", "t:div_(x) -> t", "t = t / x in place. "},
} do
  add{"tensors", "Tensor:" .. e[1], e[2], e[3] .. "x must broadcast to t's shape (t never\n" ..
      "grows). Refused on a tensor that requires grad while recording (nn.no_grad).",
      example = "local t = nn.tensor{{1, 2}, {3, 4}}\nt:" .. e[1] ..
                "(nn.tensor{10, 100}) -- one value per column\nprint(t)"}
end

local unary = {
  exp = "e^x", log = "the natural logarithm", log1p = "log(1 + x), accurate near 0",
  sqrt = "the square root", rsqrt = "1 / sqrt(x)", abs = "|x|",
  sign = "1, -1, or x itself for 0 and NaN", floor = "rounded down", ceil = "rounded up",
  round = "rounded to the nearest integer, halves to even (as numpy and torch)",
  sin = "the sine", cos = "the cosine", tanh = "the hyperbolic tangent",
  sigmoid = "1 / (1 + e^-x)", relu = "max(x, 0)", neg = "-x",
}
-- in name order, so that docs/api.md comes out the same every time
local names = {}
for name in pairs(unary) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  add{"tensors", "Tensor:" .. name, "t:" .. name .. "()", "Element-wise: " .. unary[name] .. "; a new tensor.",
      example = "print(nn.tensor{-1.5, 0, 0.25, 4}:" .. name .. "())"}
  add{"tensors", "Tensor:" .. name .. "_", "t:" .. name .. "_() -> t",
      "t:" .. name .. "() in place.",
      example = "local t = nn.tensor{-1.5, 0, 0.25, 4}\nt:" .. name .. "_()\nprint(t)"}
end

add{"tensors", "Tensor:pow", "t:pow(p) / t ^ p / p ^ t",
    "Element-wise power; p a number or a broadcast tensor. Integer p (up to 255)\n" ..
    "by products, 0.5 by sqrt; a negative base with a non-integer p gives NaN.",
    example = [[
local t = nn.tensor{1, 2, 3}
print(t:pow(2), t ^ 0.5, 2 ^ t)]]}
add{"tensors", "Tensor:clamp", "t:clamp(lo, hi)",
    "min(max(t, lo), hi); either bound may be nil. NaN stays NaN; lo > hi gives hi.",
    example = [[
print(nn.tensor{-2, 0.5, 3}:clamp(0, 1))
print(nn.tensor{-2, 0.5, 3}:clamp(nil, 1))]]}
add{"tensors", "Tensor:clamp_", "t:clamp_(lo, hi) -> t", "t:clamp(lo, hi) in place.",
    example = [[
local t = nn.tensor{-2, 0.5, 3}
t:clamp_(0, 1)
print(t)]]}
add{"tensors", "Tensor:act", "t:act(name [, param])",
    "The activation name (any of nn.help(\"activations\") but softmax) element-wise;\n" ..
    "param is leaky_relu's slope or elu's alpha (default Keras's).",
    example = [[
local x = nn.tensor{-1, 0, 1}
print(x:act("relu"), x:act("elu", 0.5), x:act("swish"))]]}
for _, e in ipairs{{"gt", ">"}, {"ge", ">="}, {"lt", "<"}, {"le", "<="}, {"eq", "=="},
                   {"ne", "~="}} do
  add{"tensors", "Tensor:" .. e[1], "t:" .. e[1] .. "(x)",
      "1 where t " .. e[2] .. " x, else 0 (NaN compares false, but ne). " .. bc,
      example = "print(nn.tensor{1, 2, 3}:" .. e[1] .. "(2))\nprint(nn.tensor{{1, 2}, {3, 4}}:" ..
                e[1] .. "(nn.tensor{2, 2}))"}
end
add{"tensors", "Tensor:maximum", "t:maximum(x)",
    "The larger of t and x element-wise; NaN on either side gives NaN. " .. bc,
    example = [[
print(nn.tensor{1, 5, 3}:maximum(2))]]}
add{"tensors", "Tensor:minimum", "t:minimum(x)",
    "The smaller of t and x element-wise; NaN on either side gives NaN. " .. bc,
    example = [[
print(nn.tensor{1, 5, 3}:minimum(nn.tensor{2, 2, 2}))]]}
add{"tensors", "Tensor:masked_fill", "t:masked_fill(mask, v)",
    "t with v where mask is not 0; mask broadcasts to t's shape.",
    example = [[
local t = nn.tensor{1, -2, 3}
print(t:masked_fill(t:lt(0), 0))]]}
add{"tensors", "nn.where", "nn.where(cond, a, b)",
    "a where cond is not 0 (NaN counts as true), else b; a and b tensors or\n" ..
    "numbers, the three broadcast together.",
    example = [[
local x = nn.tensor{-1, 2, -3}
print(nn.where(x:gt(0), x, 0)) -- relu by hand]]}
