-- A stop that comes from one rank stops every rank at the same place
-- (the others would otherwise wait for it in the next step): under
-- mpirun -np N, nnlua dist_stop.lua
--   model.stop_training set by a callback on the last rank only;
--   Ctrl-C (SIGINT) delivered to the last rank only: fit returns with
--   history.interrupted on every rank and the script goes on;
--   EarlyStopping, on the logs reduced over the ranks.
-- Every rank then has the same number of epochs and the same weights.
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local LAST = C.size - 1

local x, y = nn.data.digits()
x = x / 16
local function model()
  nn.seed(61)
  local m = nn.Sequential{nn.Dense(16, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
  return m
end

-- the same on every rank: n, and a hash of the weights
local function same_everywhere(n, m, what)
  local hash = C.hash(m)
  local mine = nn.tensor{{n, tonumber(hash:sub(1, 6), 16), tonumber(hash:sub(7, 12), 16)}}
  local all = nn.dist.allgather(mine):totable()
  for r = 2, #all do
    C.check(all[r][1] == all[1][1], string.format("%s: rank %d ran %d epochs, rank 0 %d", what,
                                                  r - 1, all[r][1], all[1][1]))
    C.check(all[r][2] == all[1][2] and all[r][3] == all[1][3],
            what .. ": the weights differ between ranks")
  end
end

do -- stop_training on one rank
  local m = model()
  local h = m:fit(x, y, {epochs = 10, batch_size = 32, verbose = 0, callbacks = {{
    on_epoch_end = function(epoch) if C.rank == LAST and epoch == 3 then m.stop_training = true end end}}})
  C.check(#h.history.loss == 3, "stop_training: " .. #h.history.loss .. " epochs, not 3")
  C.check(h.stopped == true, "history.stopped")
  same_everywhere(#h.history.loss, m, "stop_training")
end

do -- SIGINT to one rank, sent from a background shell during epoch 3
  local pid = io.open("/proc/self/stat"):read("a"):match("^(%d+)")
  local m = model()
  local sent = false
  local h = m:fit(x, y, {epochs = 100000, batch_size = 32, verbose = 0, callbacks = {{
    on_epoch_end = function(epoch)
      if C.rank == LAST and epoch == 2 and not sent then
        sent = true
        os.execute("(sleep 0.3; kill -INT " .. pid .. ") &")
      end
    end}}})
  C.check(h.interrupted == true, "history.interrupted on rank " .. C.rank)
  C.check(#h.history.loss >= 2 and #h.history.loss < 100000, "epochs " .. #h.history.loss)
  same_everywhere(#h.history.loss, m, "SIGINT")
  -- and the job goes on: a collective after it
  C.check(nn.dist.allreduce(nn.tensor{1}):get(1) == C.size, "after the interrupt")
end

do -- EarlyStopping decides on the reduced val_loss: the same epoch everywhere
  local m = model()
  local h = m:fit(x, y, {epochs = 40, batch_size = 16, verbose = 0, validation_split = 0.5,
                         callbacks = {nn.callbacks.EarlyStopping{monitor = "val_loss",
                                      patience = 0, min_delta = 0.02}}})
  C.check(#h.history.loss < 40, "EarlyStopping did not stop")
  same_everywhere(#h.history.loss, m, "EarlyStopping")
end
C.ok()
