-- nn.dist on N ranks (mpirun -np N nnlua dist_api.lua): rank, size and
-- is_main; allreduce sum, mean, max and min; broadcast from root 1;
-- allgather with a different first dimension on each rank (none on rank
-- 0 with arg[1] == "empty");
-- shape mismatches fail on every rank alike and the job goes on, as do
-- evaluate, predict and train_on_batch given other data on some rank
-- (a NaN in the data is no disagreement); stats
-- count fit's gradient buckets; and a training loop by hand with autograd
-- (backward, allreduce(p.grad, "mean"), opt:step) on each rank's shard
-- matches the same loop on the whole batch in one process (run here, on
-- every rank, with no collective in it).
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local N, R = C.size, C.rank
C.check(N >= 2, "run under mpirun with 2 or more ranks")
C.check(nn.dist.is_main() == (R == 0), "is_main")
C.check(R >= 0 and R < N, "rank " .. R)

local function check_all(t, f, what)
  local v = t:totable()
  for i = 1, #v do
    for j = 1, #v[i] do
      local want = f(i, j)
      C.check(v[i][j] == want, string.format("%s: [%d][%d] is %s, not %s", what, i, j,
                                             tostring(v[i][j]), tostring(want)))
    end
  end
end

-- rank r's values: r * 10 + i + j / 8 (exact in float32)
local function mine(r)
  local t = {}
  for i = 1, 2 do
    t[i] = {}
    for j = 1, 3 do t[i][j] = r * 10 + i + j / 8 end
  end
  return nn.tensor(t)
end
local sum_r = N * (N - 1) / 2

local t = mine(R)
local back = nn.dist.allreduce(t)
C.check(rawequal(back, t) or back == t, "allreduce returns its tensor")
check_all(t, function(i, j) return sum_r * 10 + N * (i + j / 8) end, "allreduce sum")
t = nn.dist.allreduce(mine(R), "sum")
check_all(t, function(i, j) return sum_r * 10 + N * (i + j / 8) end, "allreduce 'sum'")
t = nn.dist.allreduce(mine(R), "mean")
for i, row in ipairs(t:totable()) do
  for j, v in ipairs(row) do
    local want = (sum_r * 10 + N * (i + j / 8)) / N
    C.check(math.abs(v - want) <= 1e-5 * math.abs(want), "allreduce mean: " .. v .. " not " .. want)
  end
end
check_all(nn.dist.allreduce(mine(R), "max"), function(i, j) return (N - 1) * 10 + i + j / 8 end,
          "allreduce max")
check_all(nn.dist.allreduce(mine(R), "min"), function(i, j) return i + j / 8 end, "allreduce min")
-- an element where the maximum is on a middle rank, not the last
local peak = nn.tensor{R == N // 2 and 100 or -R}
C.check(nn.dist.allreduce(peak, "max"):get(1) == 100, "max on a middle rank")
C.check(nn.dist.allreduce(nn.tensor{-R}, "min"):get(1) == -(N - 1), "min")

-- broadcast from root 1
t = nn.dist.broadcast(mine(R), 1)
check_all(t, function(i, j) return 10 + i + j / 8 end, "broadcast from 1")
C.check(not pcall(nn.dist.broadcast, mine(R), N), "broadcast from rank N must fail")
C.check(not pcall(nn.dist.broadcast, mine(R), -1), "broadcast from rank -1 must fail")

-- allgather: rank r gives r + 1 rows of 3 columns (with arg[1] ==
-- "empty", r rows: none on rank 0)
local function gather_rows(extra)
  local rows = {}
  for i = 1, R + extra do rows[i] = {R, i, -R} end
  local part = #rows == 0 and nn.zeros(0, 3) or nn.tensor(rows)
  local g = nn.dist.allgather(part)
  local total = N * (N - 1) / 2 + N * extra
  C.check(g:size()[1] == total and g:size()[2] == 3, "allgather shape " .. table.concat(g:size(), "x"))
  local k, all = 0, g:totable()
  for r = 0, N - 1 do
    for i = 1, r + extra do
      k = k + 1
      local row = all[k]
      C.check(row[1] == r and row[2] == i and row[3] == -r,
              string.format("allgather row %d: %s", k, table.concat(row, ",")))
    end
  end
end
if arg[1] == "empty" then
  gather_rows(0)
  C.ok()
  return
end
gather_rows(1)
-- 1-D and 3-D
g = nn.dist.allgather(nn.full({R + 1}, R))
C.check(g:size()[1] == N * (N + 1) / 2, "allgather 1-D")
C.check(g:get(1) == 0 and g:get(g:size()[1]) == N - 1, "allgather 1-D values")
g = nn.dist.allgather(nn.full({1, 2, 2}, R))
C.check(g:size()[1] == N and g:size()[3] == 2 and g:get(N, 2, 2) == N - 1, "allgather 3-D")

-- shape mismatches: every rank fails, with the same message, and the
-- ranks stay in step (the collectives after still work)
local function fails_everywhere(what, f, text)
  local ok, err = pcall(f)
  C.check(not ok, what .. " did not fail on rank " .. R)
  C.check(tostring(err):find(text, 1, true), what .. ": " .. tostring(err))
  local n = nn.dist.allreduce(nn.tensor{1}):get(1)
  C.check(n == N, what .. ": the ranks are out of step after the error")
end
fails_everywhere("allreduce of differing shapes", function() nn.dist.allreduce(nn.zeros(R + 1)) end,
                 "the ranks' tensors differ in shape")
fails_everywhere("allreduce of differing ranks of shape",
                 function() nn.dist.allreduce(R == 0 and nn.zeros(6) or nn.zeros(2, 3)) end,
                 "differ in shape")
fails_everywhere("broadcast of differing shapes",
                 function() nn.dist.broadcast(nn.zeros(2, R + 2), 0) end, "differ in shape")
fails_everywhere("allgather of differing columns",
                 function() nn.dist.allgather(nn.zeros(2, R + 2)) end,
                 "all but the first dimension must agree")
C.check(not pcall(nn.dist.allreduce, nn.zeros(2), "prod"), "op 'prod' must fail")
nn.dist.barrier()

-- evaluate, predict and the batch runs shard the rows they are given:
-- ranks given other rows (or as many other rows) fail alike, and go on
do
  nn.seed(50)
  local x, y = nn.data.digits()
  x = x / 16
  local m = nn.Sequential{nn.Dense(8, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
  local a = 1 + 100 * R
  fails_everywhere("evaluate of as many other rows",
                   function() m:evaluate(x:rows(a, a + 99):clone(), y:rows(a, a + 99):clone()) end,
                   "the ranks disagree on the values of x")
  fails_everywhere("evaluate of more rows on some ranks",
                   function() m:evaluate(x:rows(1, 100 + R):clone(), y:rows(1, 100 + R):clone()) end,
                   "the ranks disagree on the number of samples")
  fails_everywhere("predict of more rows on some ranks",
                   function() m:predict(x:rows(1, 100 + 5 * R):clone()) end,
                   "the ranks disagree on the number of samples")
  fails_everywhere("predict of another layer",
                   function() m:predict(x:rows(1, 50):clone(), {upto = R == 0 and 1 or 2}) end,
                   "the ranks disagree on the layer (upto)")
  local ly = y:rows(1, 40):clone()
  if R == N - 1 then ly:set(1, ly:get(1) % 10 + 1) end
  fails_everywhere("train_on_batch of other labels",
                   function() m:train_on_batch(x:rows(1, 40):clone(), ly) end,
                   "the ranks disagree on the values of y")
  -- a NaN in x is the same data on every rank: fit trains on (loss NaN)
  local nx = x:rows(1, 64):clone()
  nx:set(3, 1, 0 / 0)
  local h = m:fit(nx, y:rows(1, 64):clone(), {epochs = 1, batch_size = 8, verbose = 0})
  C.check(#h.history.loss == 1, "fit with a NaN in x")
  C.check(m:predict(nx):size()[1] == 64, "predict with a NaN in x")
end

-- stats: fit's steps and gradient buckets
do
  nn.seed(51)
  local x, y = nn.data.digits()
  x = x:rows(1, 600):clone() / 16
  y = y:rows(1, 600):clone()
  local m = nn.Sequential{nn.Dense(16, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "sgd"}
  nn.dist.stats(true)
  m:fit(x, y, {epochs = 2, batch_size = 25, verbose = 0})
  local s = nn.dist.stats()
  local steps = 2 * math.ceil(600 / (25 * N))
  C.check(s.mpi == true, "stats.mpi")
  C.check(s.steps == steps, string.format("stats.steps %d, not %d", s.steps, steps))
  C.check(s.buckets >= s.steps, "stats.buckets " .. s.buckets)
  C.check(s.bytes >= steps * 4 * m:count_params(),
          string.format("stats.bytes %g < %d steps x %d weights x 4", s.bytes, steps, m:count_params()))
  C.check(s.reductions > 0, "stats.reductions")
end

-- "Open the box": a training loop by hand over the ranks
do
  local B, STEPS = 24, 6
  local x, y = nn.data.digits()
  x = x:rows(1, N * B * STEPS):clone() / 16
  y = y:rows(1, N * B * STEPS):clone()
  local function net()
    nn.seed(52)
    local m = nn.Sequential{nn.Dense(16, {activation = "tanh", input_dim = 64}),
                            nn.Dense(10, {activation = "softmax"})}
    return m, m:trainable_weights(), nn.optimizers.Adam{lr = 0.02}
  end
  local loss = nn.losses.sparse_categorical_crossentropy
  -- over the ranks: each its B rows of every batch of N*B
  local m, ws, opt = net()
  local losses = {}
  for s = 0, STEPS - 1 do
    local first = s * N * B + R * B + 1
    opt:zero_grad(ws)
    local l = loss(y:rows(first, first + B - 1):clone(), m(x:rows(first, first + B - 1):clone(),
                                                              {training = true}))
    l:backward()
    for _, p in ipairs(ws) do nn.dist.allreduce(p.grad, "mean") end
    opt:step(ws)
    losses[#losses + 1] = nn.dist.allreduce(nn.tensor{l:get(1)}, "mean"):get(1)
  end
  -- one process's loop on the whole batch (no collectives: the same on every rank)
  local m1, ws1, opt1 = net()
  local losses1 = {}
  for s = 0, STEPS - 1 do
    local first = s * N * B + 1
    local last = first + N * B - 1
    opt1:zero_grad(ws1)
    local l = loss(y:rows(first, last):clone(), m1(x:rows(first, last):clone(), {training = true}))
    l:backward()
    opt1:step(ws1)
    losses1[#losses1 + 1] = l:get(1)
  end
  local dw = C.maxdiff(m:get_weights(), m1:get_weights())
  local dl = C.maxdiff(losses, losses1)
  C.check(dw <= 1e-5 and dl <= 1e-5,
          string.format("the loop over ranks differs from one process: weights %g, losses %g", dw, dl))
  -- and the weights moved (the comparison is not of two untrained models)
  local _, ws0 = net()
  C.check(C.maxdiff(ws, ws0) > 1e-3, "the loop did not train")
  if R == 0 then print(string.format("custom loop over %d ranks vs one process: weights %.3g, losses %.3g", N, dw, dl)) end
  -- every rank the same bits
  local h = nn.dist.allgather(nn.tensor{{tonumber(C.hash(m):sub(1, 4), 16)}}):totable()
  for r = 2, #h do C.check(h[r][1] == h[1][1], "ranks' weights differ after the loop") end
end
C.ok()
