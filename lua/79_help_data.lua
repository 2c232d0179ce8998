-- nn.help entries of nn.data (src/bind/lnn_data.c);
-- lua/90_help.lua merges them into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"data", "nn.data.csv", "nn.data.csv(path, opts) -> x, y, info",
    "A numeric CSV. opts.header, opts.label (name, index or false), opts.sep,\n" ..
    "opts.classes. String labels become class indices 1..k (info.classes).",
    example = [[
local path = os.tmpname() .. ".csv"
local f = assert(io.open(path, "w"))
f:write("a,b,kind\n1,2,cat\n3,4,dog\n5,6,cat\n")
f:close()
local x, y, info = nn.data.csv(path, {header = true, label = "kind"})
print(x, y, info.classes[1])
os.remove(path)]]}

add{"data", "nn.data.idx", "nn.data.idx(path)", "An IDX file, plain or .gz, as a tensor.",
    example = [[
-- an IDX file of 3 unsigned bytes: magic 0x00000801, then the size
local path = os.tmpname() .. ".idx"
local f = assert(io.open(path, "wb"))
f:write(string.pack(">I4I4", 0x801, 3), string.char(1, 2, 3))
f:close()
print(nn.data.idx(path))
os.remove(path)]]}

add{"data", "nn.data.fashion_mnist", "nn.data.fashion_mnist([opts])",
    "{x_train, y_train, x_test, y_test, classes}; pixels in 0..1, x as N x 784.\n" ..
    "opts.flatten = false gives images N x 28 x 28 x 1 (for Conv2D);\n" ..
    "opts.path: the folder of the IDX files (default: Debian's dataset-fashion-mnist);\n" ..
    "opts.split = \"train\" or \"test\" reads only that half (the other's fields are nil).",
    example = [[
local ok, d = pcall(nn.data.fashion_mnist, {split = "test"})
if ok then
  local first = d.y_test[1]
  print(d.x_test:shape(), d.classes[first])
else
  print(d)
end]]}

add{"data", "nn.data.iris", "nn.data.iris() -> x, y", "The iris data set (shipped).",
    example = [[
local x, y = nn.data.iris()
print(x:shape(), y:max()) -- 150 x 4, classes 1..3]]}

add{"data", "nn.data.digits", "nn.data.digits([opts]) -> x, y",
    "The 8x8 digits data set (shipped): x 1797 x 64 (pixels 0..16), y classes 1..10.\n" ..
    "opts.flatten = false gives images 1797 x 8 x 8 x 1 (for Conv2D).",
    example = [[
local x, y = nn.data.digits()
print(x:shape(), y[1])
local images = nn.data.digits{flatten = false}
print(images:shape()) -- 1797 8 8 1]]}

add{"data", "nn.data.xor", "nn.data.xor()", "The XOR truth table.",
    example = [[
local x, y = nn.data.xor()
print(x, y)]]}

add{"data", "nn.data.spiral", "nn.data.spiral(n, classes)", "Interleaved spirals.",
    example = [[
nn.seed(1)
local x, y = nn.data.spiral(100, 3)
print(x:shape(), y:max()) -- 100 x 2, classes 1..3]]}

add{"data", "nn.data.moons", "nn.data.moons(n, noise)", "Two half moons.",
    example = [[
nn.seed(1)
local x, y = nn.data.moons(200, 0.1)
print(x:shape(), y:sum())]]}

add{"data", "nn.data.sine", "nn.data.sine(n)", "Points of a sine wave.",
    example = [[
local x, y = nn.data.sine(50)
print(x:shape(), y:shape())]]}

add{"data", "nn.data.one_hot", "nn.data.one_hot(y, k)", "Class indices 1..k as one-hot rows.",
    example = [[
print(nn.data.one_hot(nn.tensor{1, 3, 2}, 3))]]}

add{"data", "nn.data.split", "nn.data.split(x, y, frac) -> x_train, y_train, x_test, y_test",
    "A seeded shuffle, then the first frac for training.",
    example = [[
local x, y = nn.data.iris()
local xtr, ytr, xte, yte = nn.data.split(x, y, 0.8)
print(#xtr, #xte) -- 120 30]]}

add{"data", "nn.data.standardize", "nn.data.standardize(x [, mean, std]) -> x, mean, std",
    "Zero mean and unit variance per feature (a column, or a pixel and channel of images).",
    example = [[
local x = nn.data.iris()
local z, mean, std = nn.data.standardize(x)
print(z:mean(1), z:std(1))
local again = nn.data.standardize(x, mean, std) -- the same scaling for new data
print(again:size()[1])]]}

add{"data", "nn.data.shuffle", "nn.data.shuffle(x, y)", "Shuffles rows of x and y together.",
    example = [[
local x, y = nn.data.xor()
local xs, ys = nn.data.shuffle(x, y)
print(xs, ys)]]}
