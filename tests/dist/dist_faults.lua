-- Faults that must end an MPI job within seconds, never hang it: run.sh
-- runs `mpirun -np 2 nnlua dist_faults.lua CASE` under a time bound and
-- checks the exit status and the messages. Cases:
--   error     a callback raises an error on rank 1 at epoch 2 of fit
--   caught    the same inside pcall, in every hook: fit fails on both
--             ranks at once and they go on in step (this case ends well)
--   kill      rank 1 kills itself (kill -9) at epoch 2 of fit
--   early     rank 1 ends its script while rank 0 waits in a barrier
--   exit      rank 1 calls os.exit(0) at epoch 2 while rank 0 trains on
--   mismatch  the ranks call fit with different batch sizes
--   data      the ranks call fit with different rows (as many)
--   deadline  rank 1 sleeps while rank 0 waits in a barrier
--             (NNLUA_DIST_TIMEOUT=1 set by run.sh)
--   deadline_fit  the same inside fit: rank 0 waits in the gradient buckets
-- Every case but the last trains long enough (many epochs) that a job
-- that did not end at the fault would run into run.sh's bound.
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local case = arg[1]

local function my_pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("a"):match("^(%d+)")
  f:close()
  return pid
end

local function model()
  nn.seed(41)
  local m = nn.Sequential{nn.Dense(32, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam"}
  return m
end
local x, y = nn.data.digits()
x = x / 16

-- A fit of many epochs (minutes) in which hook(epoch) runs at each end.
local function long_fit(hook, b)
  local m = model()
  m:fit(x, y, {epochs = 100000, batch_size = b or 16, verbose = 0,
               callbacks = {{on_epoch_end = function(epoch) hook(epoch) end}}})
end

io.write(string.format("rank %d of %d: starting %s\n", C.rank, C.size, case))
io.stdout:flush()
if case == "error" then
  long_fit(function(epoch)
    if C.rank == 1 and epoch == 2 then error("boom from the callback at epoch 2") end
  end)
elseif case == "caught" then
  -- rank 1's callback fails inside pcall, in each hook in turn: fit fails
  -- on every rank at the next point where the ranks agree (rank 0 naming
  -- rank 1), and both go on in step to evaluate and more
  local hooks = {"on_train_begin", "on_epoch_begin", "on_batch_begin", "on_batch_end",
                 "on_epoch_end", "on_train_end"}
  for _, hook in ipairs(hooks) do
    local m = model()
    local calls = 0
    local cb = {[hook] = function()
      calls = calls + 1 -- the 1st of train, the 2nd of epoch, the 5th of batch hooks
      local now = hook:find("train") or (hook:find("epoch") and calls == 2) or calls == 5
      if C.rank == 1 and now then error("caught boom in " .. hook) end
    end}
    local ok, err = pcall(m.fit, m, x, y, {epochs = 4, batch_size = 64, verbose = 0,
                                          callbacks = {cb}})
    io.write(string.format("rank %d of %d: %s: fit failed: %s\n", C.rank, C.size, hook,
                           tostring(err)))
    C.check(not ok, hook .. ": fit did not fail on rank " .. C.rank)
    if C.rank == 1 then
      C.check(tostring(err):find("caught boom in " .. hook, 1, true), hook .. ": " .. tostring(err))
    else
      C.check(tostring(err):find("rank 1 failed in a callback", 1, true), hook .. ": " .. tostring(err))
    end
    -- in step: the same weights on both ranks, and collectives pair up
    local h = C.hash(m)
    local all = nn.dist.allgather(nn.tensor{{tonumber(h:sub(1, 6), 16), tonumber(h:sub(7, 12), 16)}}):totable()
    C.check(all[1][1] == all[2][1] and all[1][2] == all[2][2], hook .. ": the weights differ")
    local loss = m:evaluate(x, y)
    C.check(nn.dist.allreduce(nn.tensor{loss}, "max"):get(1) == nn.dist.allreduce(nn.tensor{loss}, "min"):get(1),
            hook .. ": evaluate differs")
  end
  nn.dist.barrier()
elseif case == "kill" then
  long_fit(function(epoch)
    if C.rank == 1 and epoch == 2 then os.execute("kill -9 " .. my_pid()) end
  end)
elseif case == "exit" then
  long_fit(function(epoch)
    if C.rank == 1 and epoch == 2 then os.exit(0) end
  end)
elseif case == "early" then
  if C.rank == 0 then nn.dist.barrier() end
elseif case == "mismatch" then
  long_fit(function() end, 16 + C.rank)
elseif case == "data" then
  -- each rank its own 600 rows (as if it had sharded the data itself)
  local m = model()
  local a = 1 + 600 * C.rank
  m:fit(x:rows(a, a + 599):clone(), y:rows(a, a + 599):clone(),
        {epochs = 100000, batch_size = 16, verbose = 0})
elseif case == "deadline_fit" then
  -- rank 1 sleeps in a callback at the start of a batch: rank 0 waits
  -- for it in that step's gradient buckets
  local calls = 0
  local m = model()
  m:fit(x, y, {epochs = 100000, batch_size = 16, verbose = 0, callbacks = {{
    on_batch_begin = function()
      calls = calls + 1
      if C.rank == 1 and calls == 5 then os.execute("sleep 5") end
    end}}})
elseif case == "deadline" then
  if C.rank == 1 then os.execute("sleep 5") end
  nn.dist.barrier()
else
  error("unknown case " .. tostring(case))
end
C.ok()
