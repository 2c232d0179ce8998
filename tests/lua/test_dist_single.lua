-- nn.dist without mpirun: the process is rank 0 of 1, the main one, and
-- every collective is what it is on one rank (allreduce of every op,
-- broadcast from 0 and allgather leave the values; broadcast from another
-- root is an error); stats count nothing for fit (no buckets on one rank).
local H = require "helper"
local check, checkerr = H.check, H.checkerr

H.test("rank 0 of 1, the main one", function()
  check(nn.dist.size() == 1, "size " .. tostring(nn.dist.size()))
  check(nn.dist.rank() == 0, "rank " .. tostring(nn.dist.rank()))
  check(nn.dist.is_main() == true, "is_main")
  nn.dist.barrier()
end)

H.test("allreduce of every op leaves the values, in place", function()
  for _, op in ipairs{"sum", "mean", "max", "min"} do
    local t = nn.tensor{{1.5, -2}, {3, 0.25}}
    local back = nn.dist.allreduce(t, op)
    check(back == t or rawequal(back, t), op .. ": returns its tensor")
    check(H.eq_table(t, {{1.5, -2}, {3, 0.25}}), op .. ": " .. H.show(t:totable()))
  end
  local t = nn.tensor{7}
  nn.dist.allreduce(t)
  check(t:get(1) == 7, "default op")
  checkerr("invalid option 'prod'", nn.dist.allreduce, nn.tensor{1}, "prod")
end)

H.test("broadcast from 0 leaves the values; another root is an error", function()
  local t = nn.tensor{1, 2, 3}
  check(nn.dist.broadcast(t, 0) == t, "returns its tensor")
  check(H.eq_table(t, {1, 2, 3}), "broadcast changed the values")
  checkerr("root must be a rank 0..0, got 1", nn.dist.broadcast, t, 1)
  checkerr("root must be a rank 0..0, got -1", nn.dist.broadcast, t, -1)
end)

H.test("allgather gives a copy of the tensor", function()
  local t = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  local g = nn.dist.allgather(t)
  check(H.eq_table(g, t:totable()), "values " .. H.show(g:totable()))
  check(not rawequal(g, t), "a new tensor")
  g:set(1, 1, 100)
  check(t:get(1, 1) == 1, "the copy shares storage with the tensor")
  local e = nn.dist.allgather(nn.zeros(0, 3))
  check(e:size()[1] == 0 and e:numel() == 0, "allgather of no rows")
  check(nn.dist.allgather(nn.arange(4)):numel() == 4, "1-D")
end)

H.test("stats: no gradient buckets on one rank", function()
  nn.seed(1)
  local x = nn.rand(40, 2)
  local y = x:sum(2, true)
  local m = nn.Sequential{nn.Dense(1, {input_dim = 2})}
  m:compile{loss = "mse", optimizer = "sgd"}
  nn.dist.stats(true)
  m:fit(x, y, {epochs = 2, batch_size = 10, verbose = 0})
  local s = nn.dist.stats()
  check(type(s.mpi) == "boolean", "stats.mpi")
  check(s.steps == 0 and s.buckets == 0 and s.bytes == 0, "buckets on one rank: " .. s.buckets)
  check(s.overlap == true, "overlap")
end)

H.test("a custom loop with allreduce(p.grad, 'mean') is the plain loop", function()
  local function run(with_dist)
    nn.seed(5)
    local x = nn.randn(16, 3)
    local y = x:sum(2, true)
    local m = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 3}), nn.Dense(1)}
    local ws, opt = m:trainable_weights(), nn.optimizers.SGD{lr = 0.1}
    for _ = 1, 3 do
      opt:zero_grad(ws)
      nn.losses.mse(y, m(x, {training = true})):backward()
      if with_dist then for _, p in ipairs(ws) do nn.dist.allreduce(p.grad, "mean") end end
      opt:step(ws)
    end
    return m:get_weights()
  end
  local a, b = run(true), run(false)
  for i = 1, #a do check(H.eq_table(a[i], b[i]:totable()), "weight " .. i) end
end)

H.done()
