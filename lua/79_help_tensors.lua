-- nn.help entries of the tensors and the runtime (src/bind/lnn_tensor*.c, lnn.c);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"tensors", "nn.tensor", "nn.tensor(nested) / nn.tensor(flat, {d1, d2, ...})",
    "A tensor from a nested table of numbers ({{1, 2}, {3, 4}} is 2 x 2), or from\n" ..
    "a flat table and a shape. Rows must all have the same length; at most 8 levels.",
    example = [[
local a = nn.tensor{{1, 2}, {3, 4}}
local b = nn.tensor({1, 2, 3, 4, 5, 6}, {2, 3})
print(a, b:shape())]]}

add{"tensors", "nn.zeros", "nn.zeros(d1, ...) / nn.zeros({d1, ...})",
    "A tensor of zeros of the given shape (1 to 8 dimensions).",
    example = [[
print(nn.zeros(2, 3))
print(nn.zeros({4}):numel())]]}

add{"tensors", "nn.ones", "nn.ones(d1, ...) / nn.ones({d1, ...})", "A tensor of ones.",
    example = [[
print(nn.ones(2, 2))]]}

add{"tensors", "nn.full", "nn.full({d1, ...}, v)", "A tensor filled with the number v.",
    example = [[
print(nn.full({2, 3}, 7))]]}

add{"tensors", "nn.rand", "nn.rand(d1, ...)",
    "Uniform random numbers in [0, 1); the same after the same nn.seed(n).",
    example = [[
nn.seed(1)
local u = nn.rand(1000)
print(u:min() >= 0, u:max() < 1, u:mean())]]}

add{"tensors", "nn.randn", "nn.randn(d1, ...)",
    "Standard normal random numbers; the same after the same nn.seed(n).",
    example = [[
nn.seed(1)
local z = nn.randn(10000)
print(z:mean(), z:std()) -- about 0 and 1]]}

add{"tensors", "nn.arange", "nn.arange(n) / nn.arange(start, stop [, step])",
    "The 1-D tensor 0, 1, ..., n-1; or start, start + step, ... before stop (stop\n" ..
    "excluded; step may be fractional or negative, not 0), as numpy and torch.",
    example = [[
print(nn.arange(5))
print(nn.arange(0, 1, 0.25))]]}

add{"tensors", "nn.randint", "nn.randint(lo, hi, {d1, ...})",
    "Random integers lo..hi inclusive, uniform; the same after the same nn.seed(n).\n" ..
    "lo and hi within -2^24..2^24 (exact in float32).",
    example = [[
nn.seed(3)
print(nn.randint(1, 6, {10})) -- ten dice]]}

add{"tensors", "nn.randperm", "nn.randperm(n)",
    "A random permutation of 1..n (n at most 2^24); the same after the same nn.seed(n).",
    example = [[
nn.seed(2)
print(nn.randperm(5))]]}

add{"tensors", "nn.zeros_like", "nn.zeros_like(t)", "Zeros of t's shape.",
    example = [[
local t = nn.rand(2, 3)
print(nn.zeros_like(t))]]}

add{"tensors", "nn.ones_like", "nn.ones_like(t)", "Ones of t's shape.",
    example = [[
print(nn.ones_like(nn.rand(3)))]]}

add{"tensors", "nn.save_tensors", "nn.save_tensors(path, {name = t, ...} [, {key = \"text\"}])",
    "Saves tensors by name to a safetensors file (F32, written through a\n" ..
    "temporary file then renamed); the optional table becomes __metadata__.\n" ..
    "numpy, PyTorch and the safetensors library read it.",
    example = [[
local path = os.tmpname() .. ".safetensors"
nn.save_tensors(path, {w = nn.eye(2), b = nn.zeros(2)}, {note = "demo"})
local t, meta = nn.load_tensors(path)
print(t.w, meta.note)
os.remove(path)]]}

add{"tensors", "nn.load_tensors", "nn.load_tensors(path) -> {name = t, ...}, metadata",
    "Reads a safetensors file: every tensor as float32 (F64, F16, BF16, integers\n" ..
    "and BOOL converted), and the __metadata__ strings as a second table.",
    example = [[
local path = os.tmpname() .. ".safetensors"
nn.save_tensors(path, {x = nn.arange(4)})
local t = nn.load_tensors(path)
print(t.x)
os.remove(path)]]}

add{"tensors", "nn.linspace", "nn.linspace(a, b, n)", "n evenly spaced numbers from a to b inclusive.",
    example = [[
print(nn.linspace(0, 1, 5))]]}

add{"tensors", "nn.eye", "nn.eye(n)", "The n x n identity matrix.",
    example = [[
print(nn.eye(3))]]}

add{"tensors", "nn.matmul", "nn.matmul(a, b) / a:matmul(b)",
    "Matrix product of a (m x k) and b (k x n) on the SIMD core. A 1-D b is a column\n" ..
    "(the result is 1-D); a 1-D a is a row. 3-D operands are batches of matrices:\n" ..
    "[b x m x k] times [b x k x n] is [b x m x n]; a batch of 1 or a 2-D operand is\n" ..
    "used for every matrix of the other.",
    example = [[
local a = nn.tensor{{1, 2}, {3, 4}}
print(nn.matmul(a, nn.eye(2)))
print(a:matmul(nn.tensor{1, 1})) -- a 1-D b is a column
print(nn.matmul(nn.rand(5, 2, 3), nn.rand(5, 3, 4)):shape()) -- 5 2 4]]}

add{"tensors", "Tensor:mm", "a:mm(b)", "Matrix product of two 2-D tensors only.",
    example = [[
print(nn.ones(2, 3):mm(nn.ones(3, 2)))]]}

add{"tensors", "nn.dot", "nn.dot(a, b) / a:dot(b)",
    "The inner product of two 1-D tensors of one length (a number; a one-element\n" ..
    "tensor when it is recorded for autograd).",
    example = [[
print(nn.dot(nn.tensor{1, 2, 3}, nn.tensor{4, 5, 6})) -- 32]]}

add{"tensors", "nn.outer", "nn.outer(a, b) / a:outer(b)",
    "The outer product of 1-D a (m) and b (n): an m x n tensor.",
    example = [[
print(nn.outer(nn.tensor{1, 2}, nn.tensor{1, 10, 100}))]]}

add{"tensors", "nn.cat", "nn.cat({a, b, ...} [, dim])",
    "Concatenates tensors along dimension dim (default 1); the other dimensions\nmust agree.",
    example = [[
local a, b = nn.ones(2, 2), nn.zeros(1, 2)
print(nn.cat({a, b}))       -- 3 x 2
print(nn.cat({a, a}, 2):shape()) -- 2 4]]}

add{"tensors", "Tensor:shape", "t:shape() -> d1, d2, ...", "The sizes of the dimensions, as several values.",
    example = [[
local rows, cols = nn.zeros(3, 4):shape()
print(rows, cols)]]}

add{"tensors", "Tensor:size", "t:size() -> {d1, d2, ...}", "The shape as a table.",
    example = [[
print(table.concat(nn.zeros(3, 4):size(), " x "))]]}

add{"tensors", "Tensor:dim", "t:dim()", "The number of dimensions (1 to 8).",
    example = [[
print(nn.zeros(2, 3, 4):dim())]]}

add{"tensors", "Tensor:numel", "t:numel()", "The number of elements.",
    example = [[
print(nn.zeros(2, 3, 4):numel())]]}

add{"tensors", "Tensor:len", "#t", "The size of the first dimension.",
    example = [[
print(#nn.zeros(5, 2))]]}

add{"tensors", "Tensor:[i]", "t[i] / t[i] = v",
    "For 1-D, element i. For more dimensions, a view of row i: it shares storage,\n" ..
    "so writing to it changes t. t[i] = v sets an element, or fills row i with a\n" ..
    "number or copies a tensor of the row's shape into it.",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}}
print(t[2])  -- a view of row 2
t[2][1] = 30
t[1] = 0     -- fills row 1
print(t)]]}

add{"tensors", "Tensor:get", "t:get(i, j, ...)", "One element; one 1-based index per dimension.",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}}
print(t:get(2, 1))]]}

add{"tensors", "Tensor:set", "t:set(i, j, ..., v) -> t", "Sets one element; returns t.",
    example = [[
local t = nn.zeros(2, 2):set(1, 2, 5)
print(t)]]}

add{"tensors", "Tensor:rows", "t:rows(a [, b])", "A view of rows a..b (default b = a), sharing storage.",
    example = [[
local t = nn.arange(12):reshape(4, 3)
print(t:rows(2, 3))]]}

add{"tensors", "Tensor:clone", "t:clone()", "A deep copy.",
    example = [[
local a = nn.ones(2)
local b = a:clone()
b[1] = 9
print(a, b)]]}

add{"tensors", "Tensor:fill_", "t:fill_(v) -> t", "Sets every element to the number v, in place.",
    example = [[
print(nn.zeros(3):fill_(2.5))]]}

add{"tensors", "Tensor:zero_", "t:zero_() -> t", "Sets every element to 0, in place.",
    example = [[
print(nn.ones(3):zero_())]]}

add{"tensors", "Tensor:reshape", "t:reshape(d1, ...)",
    "A view with a new shape of the same number of elements; one size may be -1\n" ..
    "and is inferred.",
    example = [[
print(nn.arange(6):reshape(2, 3))
print(nn.arange(6):reshape(-1, 2):shape()) -- 3 2]]}

add{"tensors", "Tensor:totable", "t:totable()", "The values as nested Lua tables.",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}}:totable()
print(t[2][1])]]}

add{"tensors", "Tensor:arith", "a + b, a - b, a * b, a / b, a ^ b, -a",
    "Element-wise, with a number (either side) or a tensor; shapes broadcast by\n" ..
    "numpy's rules (trailing sizes equal or 1: [3x1] with [4] gives [3x4]).",
    example = [[
local a = nn.tensor{{1}, {2}, {3}} -- 3 x 1
local b = nn.tensor{10, 20}       -- 2
print(a + b)                      -- broadcasts to 3 x 2
print(2 * a - 1, a ^ 2, -a)]]}

add{"tensors", "Tensor:sum", "t:sum([dim [, keepdim]])",
    "The sum of all elements (a number), or along dimension dim (a tensor without\n" ..
    "that dimension, or with it of size 1 when keepdim is true); dim is 1-based,\n" ..
    "negative counts from the end. Sums run in double. When t requires grad the\n" ..
    "sum of all elements is a one-element tensor, so that loss:backward() works;\n" ..
    "the other reductions do the same.",
    example = [[
local t = nn.tensor{{1, 2}, {3, 4}}
print(t:sum())        -- 10
print(t:sum(1))       -- column sums
print(t:sum(2, true)) -- 2 x 1]]}

add{"tensors", "Tensor:mean", "t:mean([dim [, keepdim]])", "The mean, of all elements or along dim.",
    example = [[
print(nn.tensor{{1, 2}, {3, 4}}:mean(2))]]}

add{"tensors", "Tensor:prod", "t:prod([dim [, keepdim]])", "The product, of all elements or along dim.",
    example = [[
print(nn.tensor{1, 2, 3, 4}:prod())]]}

add{"tensors", "Tensor:max", "t:max([dim [, keepdim]]) -> values, indices",
    "The largest element and its 1-based flat index, or along dim a tensor of\n" ..
    "values and one of 1-based indices (of the first largest; NaN counts as the\n" ..
    "largest and propagates).",
    example = [[
local v, i = nn.tensor{3, 9, 4}:max()
print(v, i)
local vals, idx = nn.tensor{{1, 5}, {7, 2}}:max(2)
print(vals, idx)]]}

add{"tensors", "Tensor:min", "t:min([dim [, keepdim]]) -> values, indices",
    "The smallest element and its index, as t:max.",
    example = [[
print(nn.tensor{3, 9, 4}:min())]]}

add{"tensors", "Tensor:argmax", "t:argmax([dim [, keepdim]])",
    "The 1-based position of the first largest element: a flat index without dim,\n" ..
    "else a tensor of indices along dim.",
    example = [[
print(nn.tensor{{0.1, 0.9}, {0.8, 0.2}}:argmax(2)) -- the predicted classes]]}

add{"tensors", "Tensor:argmin", "t:argmin([dim [, keepdim]])",
    "The 1-based position of the first smallest element, as t:argmax.",
    example = [[
print(nn.tensor{3, 1, 2}:argmin())]]}

add{"tensors", "Tensor:var", "t:var([dim [, keepdim]] [, {correction = 1}])",
    "The variance, sum((x - mean)^2) / (n - correction); correction 1 (Bessel's,\n" ..
    "as PyTorch) unless given; {unbiased = false} is correction 0.",
    example = [[
local t = nn.tensor{1, 2, 3, 4}
print(t:var(), t:var({correction = 0}))]]}

add{"tensors", "Tensor:std", "t:std([dim [, keepdim]] [, {correction = 1}])",
    "The standard deviation: the square root of t:var.",
    example = [[
print(nn.tensor{1, 2, 3, 4}:std())]]}

add{"tensors", "Tensor:norm", "t:norm([p [, dim [, keepdim]]])",
    "The p-norm (sum |x|^p)^(1/p), p > 0 (default 2); p = math.huge or \"inf\" gives\n" ..
    "max |x|. Of all elements (a number) or along dim.",
    example = [[
local t = nn.tensor{3, -4}
print(t:norm(), t:norm(1), t:norm(math.huge))]]}

add{"tensors", "Tensor:cumsum", "t:cumsum(dim)", "Cumulative sums along dim (the same shape).",
    example = [[
print(nn.tensor{1, 2, 3}:cumsum(1))]]}

add{"tensors", "Tensor:logsumexp", "t:logsumexp([dim [, keepdim]])",
    "log(sum(exp(x))), computed stably, of all elements or along dim.",
    example = [[
print(nn.tensor{1000, 1000}:logsumexp()) -- 1000 + log 2, no overflow]]}

add{"tensors", "Tensor:softmax", "t:softmax([dim])",
    "exp(x) / sum(exp(x)) along dim (default the last), computed stably.",
    example = [[
local p = nn.tensor{{1, 2, 3}}:softmax()
print(p, p:sum())]]}

add{"tensors", "Tensor:log_softmax", "t:log_softmax([dim])",
    "x - logsumexp(x) along dim (default the last).",
    example = [[
print(nn.tensor{{1, 2, 3}}:log_softmax():exp())]]}

add{"tensors", "Tensor:map", "t:map(f)", "A new tensor of f(x) for every element x; f must return a number.",
    example = [[
print(nn.tensor{1, 2, 3}:map(function(x) return x * x end))]]}

add{"tensors", "Tensor:apply", "t:apply(f) -> t", "Replaces every element x by f(x), in place.",
    example = [[
local t = nn.tensor{1, 2, 3}
t:apply(math.sqrt)
print(t)]]}

add{"tensors", "Tensor:close", "t:close() / local t <close> = ...",
    "Frees the tensor's memory now instead of at collection; views stay valid.",
    example = [[
do
  local big <close> = nn.zeros(1000, 1000)
  print(big:numel())
end -- its 4 MB are freed here]]}

add{"tensors", "Tensor:tostring", "tostring(t) / print(t)",
    "numpy-style text; tensors of more than 100 elements show their edges and shape.",
    example = [[
print(nn.eye(2))
local s = tostring(nn.zeros(20, 20)) -- edges and shape only
print(#s < 2000)]]}

add{"runtime", "nn.seed", "nn.seed(n)", "Seeds the random numbers of nn.rand, nn.randn and initializers.",
    example = [[
nn.seed(42)
local a = nn.rand(3)
nn.seed(42)
print(a, nn.rand(3)) -- the same numbers]]}

add{"runtime", "nn.threads", "nn.threads([n]) -> n",
    "Sets (1..256) and returns the number of threads of the math core. Results do\n" ..
    "not depend on it. $NNLUA_THREADS sets it at start.",
    example = [[
local n = nn.threads()
print("threads:", n)
nn.threads(n) -- set it back]]}

add{"runtime", "nn.cpu", "nn.cpu() -> {isa=, best=, threads=, supported=}",
    "The instruction set in use, the best this CPU has, the thread count and the\n" ..
    "levels this CPU supports. $NNLUA_ISA (scalar, sse2, avx2, avx512) forces a\nlower one.",
    example = [[
local c = nn.cpu()
print(c.isa, c.best, c.threads)]]}

add{"runtime", "nn.clock", "nn.clock() -> seconds",
    "Wall-clock seconds from a fixed start (monotonic): nn.clock() - t0 times code.\n" ..
    "os.clock() counts the CPU time of every thread instead.",
    example = [[
local t0 = nn.clock()
local _ = nn.rand(200, 200):matmul(nn.rand(200, 200))
print(string.format("%.4f s", nn.clock() - t0))]]}

add{"runtime", "nn.version", "nn.version", "The version string.",
    example = [[
print(nn.version)]]}

add{"runtime", "nn.help", "nn.help([x])",
    "Prints the entry of x (a function, a name, a value), or lists the topics.",
    example = [[
nn.help("zeros")
nn.help(nn.Dense)
nn.help("losses")]]}
