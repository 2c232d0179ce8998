-- The examples of examples/*.lua trained over 5 seeds each, printing the mean,
-- min and max held-out accuracy (MSE against the clean sine for regression),
-- to compare with torch_examples.py on the same splits, with the same
-- thread count (arg[1], default 1).
-- Usage: nnlua nnlua_examples.lua [threads]
nn.threads(tonumber(arg and arg[1]) or 1)
local function stats(name, v)
  local s, mn, mx = 0, math.huge, -math.huge
  for _, a in ipairs(v) do s = s + a; mn = math.min(mn, a); mx = math.max(mx, a) end
  print(string.format("%s: mean %.4f min %.4f max %.4f", name, s / #v, mn, mx))
end
nn.seed(1)
local x, y = nn.data.iris()
local a, b, c, d = nn.data.split(x, y, 0.8)
local mean, std
a, mean, std = nn.data.standardize(a); c = nn.data.standardize(c, mean, std)
nn.seed(1)
local dx, dy = nn.data.digits(); dx = dx / 16
local da, db, dc, dd = nn.data.split(dx, dy, 0.8)
local r = {xor = {}, iris = {}, digits = {}, reg = {}}
for seed = 1, 5 do
  nn.seed(100 + seed)
  local xx, xy = nn.data.xor()
  local m = nn.Sequential({nn.Dense(8, {input_dim = 2, activation = "tanh"}), nn.Dense(1, "sigmoid")})
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.05}, metrics = {"accuracy"}}
  m:fit(xx, xy, {epochs = 300, batch_size = 4, verbose = 0})
  r.xor[#r.xor + 1] = select(2, m:evaluate(xx, xy)).accuracy
  m = nn.Sequential({nn.Dense(16, {input_dim = 4, activation = "relu"}), nn.Dense(3, "softmax")})
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.01}, metrics = {"accuracy"}}
  m:fit(a, b, {epochs = 100, batch_size = 16, verbose = 0})
  r.iris[#r.iris + 1] = select(2, m:evaluate(c, d)).accuracy
  m = nn.Sequential({nn.Dense(64, {input_dim = 64, activation = "relu"}), nn.Dropout(0.2), nn.Dense(10, "softmax")})
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
  m:fit(da, db, {epochs = 30, batch_size = 32, validation_split = 0.1, verbose = 0})
  r.digits[#r.digits + 1] = select(2, m:evaluate(dc, dd)).accuracy
  local sx, sy = nn.data.sine(400, 0.1)
  m = nn.Sequential({nn.Dense(32, {input_dim = 1, activation = "tanh"}), nn.Dense(32, "tanh"), nn.Dense(1)})
  m:compile{loss = "mse", optimizer = nn.optimizers.Adam{lr = 0.01}}
  m:fit(sx, sy, {epochs = 200, batch_size = 32, verbose = 0})
  r.reg[#r.reg + 1] = m:evaluate(sx, sx:map(math.sin))
end
stats("xor", r.xor); stats("iris", r.iris); stats("digits", r.digits); stats("reg_clean_mse", r.reg)
