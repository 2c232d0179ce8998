-- Faults that must end an MPI job within seconds, never hang it: run.sh
-- runs `mpirun -np 2 nnlua dist_faults.lua CASE` under a time bound and
-- checks the exit status and the messages. Cases:
--   error     a callback raises an error on rank 1 at epoch 2 of fit
--   caught    the same inside pcall: rank 1 goes on to evaluate and a
--             barrier while rank 0 is still in fit
--   kill      rank 1 kills itself (kill -9) at epoch 2 of fit
--   early     rank 1 ends its script while rank 0 waits in a barrier
--   exit      rank 1 calls os.exit(0) at epoch 2 while rank 0 trains on
--   mismatch  the ranks call fit with different batch sizes
--   data      the ranks call fit with different rows (as many)
--   deadline  rank 1 sleeps while rank 0 waits in a barrier
--             (NNLUA_DIST_TIMEOUT=1 set by run.sh)
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
  -- rank 1 catches the error and goes on to other collectives while
  -- rank 0 is still in fit: the calls no longer pair up
  local ok, err = pcall(long_fit, function(epoch)
    if C.rank == 1 and epoch == 2 then error("caught boom at epoch 2") end
  end)
  io.write(string.format("rank %d of %d: fit failed: %s\n", C.rank, C.size, tostring(err)))
  io.stdout:flush()
  model():evaluate(x, y)
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
elseif case == "deadline" then
  if C.rank == 1 then os.execute("sleep 5") end
  nn.dist.barrier()
else
  error("unknown case " .. tostring(case))
end
C.ok()
