-- After training with Dropout (each rank its own masks) and
-- BatchNormalization (each rank its own batch statistics), which break the
-- match with one process, every rank still holds bit-identical weights,
-- moving statistics included: an FNV-1a hash of every weight's float32
-- bytes, and every weight itself, gathered from all ranks and compared
-- exactly. Under mpirun -np N: nnlua dist_weights_hash.lua
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")

-- The hash as 4 numbers of 16 bits (exact in float32), gathered: row r is
-- rank r's.
local function gather_hash(hex)
  local parts = {}
  for i = 0, 3 do parts[#parts + 1] = tonumber(hex:sub(4 * i + 1, 4 * i + 4), 16) end
  return nn.dist.allgather(nn.tensor({parts})):totable()
end

local function all_rows_equal(rows)
  for r = 2, #rows do
    for j = 1, #rows[1] do
      if rows[r][j] ~= rows[1][j] then return false, r - 1 end
    end
  end
  return true
end

nn.seed(21 + C.rank) -- different streams on purpose: fit must share rank 0's start
local x, y = nn.data.digits()
x = x / 16
local m = nn.Sequential{nn.Dense(32, {input_dim = 64}), nn.BatchNormalization(),
                        nn.Activation("relu"), nn.Dropout(0.3),
                        nn.Dense(10, {activation = "softmax"})}
m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.01},
          metrics = {"accuracy"}}
local h = m:fit(x, y, {epochs = 3, batch_size = 48, validation_split = 0.1, verbose = 0})
C.check(h.history.loss[3] < h.history.loss[1], "the loss did not fall")
-- and a few steps of train_on_batch, sharded too
for s = 0, 2 do
  local rows = x:rows(1 + 100 * s, 100 * s + 77):clone()
  m:train_on_batch(rows, y:rows(1 + 100 * s, 100 * s + 77):clone())
end

local hash = C.hash(m)
print(string.format("rank %d weights hash %s", C.rank, hash))
local ok, r = all_rows_equal(gather_hash(hash))
C.check(ok, "rank " .. tostring(r) .. "'s weights hash differs from rank 0's")

-- every weight (the moving mean and variance too), gathered and compared
-- bit for bit
local weights = m:get_weights()
C.check(#weights == 8, "expected 8 weight arrays, got " .. #weights)
for i, w in ipairs(weights) do
  local rows = nn.dist.allgather(w:reshape(1, w:numel())):totable()
  C.check(#rows == C.size, "allgather gave " .. #rows .. " rows")
  local same, who = all_rows_equal(rows)
  C.check(same, string.format("weight %d differs between rank 0 and rank %s", i, tostring(who)))
end

-- the check can fail: one ulp off on the last rank changes its hash
if C.size > 1 then
  local w = m:get_weights()
  if C.rank == C.size - 1 then
    local v = w[1]:get(1, 1)
    local bumped = string.unpack("<f", string.pack("<I4", string.unpack("<I4", string.pack("<f", v)) + 1))
    w[1]:set(1, 1, bumped)
  end
  m:set_weights(w)
  C.check(not all_rows_equal(gather_hash(C.hash(m))), "a one-ulp change was not seen")
end
C.ok("hash " .. hash)
