-- Writes the exact train/test splits that examples/*.lua use to CSV files in
-- the folder given as arg[1], so bench/examples_vs_torch/torch_examples.py
-- trains PyTorch on the same data.
local dir = assert(arg[1], "usage: nnlua dump.lua DIR")
local function dump(path, t)
  local f = assert(io.open(path, "w"))
  local r = t:dim() == 1 and t:numel() or (t:shape())
  local tt = t:totable()
  for i = 1, #tt do
    local row = tt[i]
    if type(row) == "table" then f:write(table.concat(row, ","), "\n") else f:write(row, "\n") end
  end
  f:close()
end
nn.seed(1)
local x, y = nn.data.iris()
local a, b, c, d = nn.data.split(x, y, 0.8)
local mean, std
a, mean, std = nn.data.standardize(a)
c = nn.data.standardize(c, mean, std)
dump(dir .. "/iris_xtr.csv", a); dump(dir .. "/iris_ytr.csv", b)
dump(dir .. "/iris_xte.csv", c); dump(dir .. "/iris_yte.csv", d)
nn.seed(1)
x, y = nn.data.digits()
x = x / 16
a, b, c, d = nn.data.split(x, y, 0.8)
dump(dir .. "/dig_xtr.csv", a); dump(dir .. "/dig_ytr.csv", b)
dump(dir .. "/dig_xte.csv", c); dump(dir .. "/dig_yte.csv", d)
nn.seed(3)
x, y = nn.data.sine(400, 0.1)
dump(dir .. "/sin_x.csv", x); dump(dir .. "/sin_y.csv", y)
