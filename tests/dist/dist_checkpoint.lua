-- A model file saved by an N-rank run resumes in one process and the
-- other way round (run.sh runs the steps, with and without mpirun):
--   train FILE CSV B          fit 3 epochs (batch B per rank) with
--                             ModelCheckpoint{FILE} and CSVLogger(CSV);
--                             only rank 0 writes files
--   resume FILE B write OUT   nn.load(FILE), fit to epoch 6 from
--                             initial_epoch = m.epochs_done; writes OUT
--   resume FILE B compare REF the same, compared with REF (tolerance)
--   same FILE1 FILE2          two files' weights agree (tolerance)
local C = dofile(((arg[0]):match("^(.*)/") or ".") .. "/common.lua")
local TOL = 1e-5 -- measured differences are ~1e-7 (float sums in another order)

local x, y = nn.data.digits()
x = x / 16
nn.seed(30)
x, y = nn.data.shuffle(x, y)

local function count_lines(path)
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  return n
end

local cmd = arg[1]
if cmd == "train" then
  local file, csv, b = arg[2], arg[3], assert(tonumber(arg[4]))
  nn.seed(31)
  local m = nn.Sequential{nn.Dense(32, {activation = "relu", input_dim = 64}),
                          nn.Dense(10, {activation = "softmax"})}
  m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.01},
            metrics = {"accuracy"}}
  -- and a pair of files named by the rank: only rank 0's may appear
  local mine = file .. ".rank" .. C.rank
  local h = m:fit(x, y, {epochs = 3, batch_size = b, validation_split = 0.2, verbose = 0,
                         callbacks = {nn.callbacks.ModelCheckpoint{file},
                                      nn.callbacks.CSVLogger(csv),
                                      nn.callbacks.ModelCheckpoint{mine .. ".safetensors"},
                                      nn.callbacks.CSVLogger(mine .. ".csv")}})
  nn.dist.barrier() -- rank 0's files are complete
  for _, ext in ipairs{".safetensors", ".csv"} do
    local f = io.open(mine .. ext)
    if f then f:close() end
    C.check((f ~= nil) == (C.rank == 0), "rank " .. C.rank .. (f and " wrote " or " did not write ") .. mine .. ext)
  end
  local saved = nn.load(file)
  C.check(saved.epochs_done == 3, "epochs_done in the file: " .. tostring(saved.epochs_done))
  C.check(C.maxdiff(saved:get_weights(), m:get_weights()) == 0,
          "the file's weights are not the trained ones")
  -- one header and a row per epoch: one writer
  C.check(count_lines(csv) == 4, "the CSV log has " .. count_lines(csv) .. " lines, not 4")
  C.check(#h.history.loss == 3, "epochs")
  C.ok()
elseif cmd == "resume" then
  local file, b, what, out = arg[2], assert(tonumber(arg[3])), arg[4], arg[5]
  nn.seed(32)
  local m = nn.load(file)
  C.check(m.epochs_done == 3, "epochs_done: " .. tostring(m.epochs_done))
  local h = m:fit(x, y, {epochs = 6, batch_size = b, validation_split = 0.2, verbose = 0,
                         initial_epoch = m.epochs_done})
  C.check(#h.history.loss == 3, "resumed for " .. #h.history.loss .. " epochs, not 3")
  C.check(h.epoch[1] == 4 and h.epoch[3] == 6, "the resumed epochs are not 4..6")
  C.check(m.epochs_done == 6, "epochs_done after: " .. tostring(m.epochs_done))
  local loss, metrics = m:evaluate(x, y)
  local r = {history = C.history(h), weights = m:get_weights(), loss = loss, metrics = metrics}
  if what == "write" then
    C.dump(out, r)
    C.ok()
  else
    local d = C.maxdiff(r, C.load(out))
    if C.rank == 0 then print(string.format("resumed with %d rank(s): max abs difference %.3g", C.size, d)) end
    C.check(d <= TOL, string.format("the resumed run differs by %g (tolerance %g)", d, TOL))
    C.ok(string.format("diff %.3g", d))
  end
elseif cmd == "same" then
  local a, b = nn.load(arg[2]), nn.load(arg[3])
  local d = C.maxdiff(a:get_weights(), b:get_weights())
  print(string.format("files' weights: max abs difference %.3g", d))
  C.check(d <= TOL, string.format("the files' weights differ by %g (tolerance %g)", d, TOL))
  C.ok()
else
  error("usage: dist_checkpoint.lua train|resume|same ...")
end
