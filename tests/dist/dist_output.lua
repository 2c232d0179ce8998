-- Only rank 0 speaks and draws: under mpirun -np N, nnlua dist_output.lua DIR
-- runs fit with verbose = 2 (a line per epoch), a validation_split on
-- data sorted by class (fit's warning), EarlyStopping{verbose = 1} (its
-- message), then nn.plot.history and nn.plot.decision_boundary into files
-- named by the rank in DIR, and a LivePlot into a file named by the rank.
-- run.sh counts the lines; this script checks that only rank 0's files
-- appear, and that a plot over a model (its predictions) on rank 0 alone
-- leaves the ranks in step.
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local dir = assert(arg[1], "usage: dist_output.lua DIR")

nn.seed(71)
local x, y = nn.data.spiral(100, 2) -- sorted by class
local m = nn.Sequential{nn.Dense(16, {activation = "tanh", input_dim = 2}),
                        nn.Dense(2, {activation = "softmax"})}
m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.02},
          metrics = {"accuracy"}}
local mine = dir .. "/rank" .. C.rank
local live = nn.callbacks.LivePlot{file = mine .. "-live.png"}
local h = m:fit(x, y, {epochs = 4, batch_size = 16, verbose = 2, validation_split = 0.2,
                       callbacks = {nn.callbacks.EarlyStopping{monitor = "loss", patience = 0,
                                                               min_delta = 10, verbose = 1},
                                    live}})
live:wait() -- its last frame is drawn
nn.plot.history(h, {file = mine .. "-history.png"})
nn.plot.decision_boundary(m, x, y, {file = mine .. "-boundary.png"})
nn.dist.barrier()
for _, what in ipairs{"-history.png", "-boundary.png", "-live.png"} do
  local f = io.open(mine .. what)
  if f then f:close() end
  C.check((f ~= nil) == (C.rank == 0),
          "rank " .. C.rank .. (f and " drew " or " did not draw ") .. mine .. what)
end
-- in step after rank 0 drew the model alone
C.check(nn.dist.allreduce(nn.tensor{1}):get(1) == C.size, "the ranks are out of step")
local loss = m:evaluate(x, y)
C.check(nn.dist.allreduce(nn.tensor{loss}, "max"):get(1) == nn.dist.allreduce(nn.tensor{loss}, "min"):get(1),
        "evaluate differs between ranks")
C.ok()
