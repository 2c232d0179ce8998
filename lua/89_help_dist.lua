-- nn.help entries of nn.dist (src/bind/lnn_dist.c) and the topic of
-- training over MPI; lua/90_help.lua merges them into nn.help and
-- docs/api.md.
local nn = ...
local add = nn._help_add

nn._help_add_topic{"dist", "nn.dist: data-parallel training over MPI (mpirun -np N nnlua)",
                   after = "explain"}

add{"dist", "nn.dist.rank", "nn.dist.rank() -> r",
    "This process's rank, 0-based as MPI numbers them. `mpirun -np N nnlua\n" ..
    "train.lua` runs the script once per rank; fit, evaluate, predict and\n" ..
    "train_on_batch then take each rank's share of every batch and sum the\n" ..
    "gradients over the ranks, with no change to the script: N ranks with\n" ..
    "batch_size B train as one process with B * N. Without mpirun the rank\n" ..
    "is 0 of 1. Rank 0 alone prints progress and callback messages, writes\n" ..
    "checkpoints and CSV logs and draws plots. See docs/scaling.md.",
    example = [[
if nn.dist.rank() == 0 then print("rank 0 of " .. nn.dist.size()) end]]}

add{"dist", "nn.dist.size", "nn.dist.size() -> n",
    "The number of ranks in the job (1 without mpirun).",
    example = [[
print(nn.dist.size())]]}

add{"dist", "nn.dist.is_main", "nn.dist.is_main() -> boolean",
    "True on rank 0: the rank that prints and writes files for the job.",
    example = [[
if nn.dist.is_main() then print("I speak for the job") end]]}

add{"dist", "nn.dist.barrier", "nn.dist.barrier()",
    "Waits until every rank has called it. Like every collective (fit,\n" ..
    "evaluate, predict, train_on_batch and the calls of nn.dist), every rank\n" ..
    "must make it, in the same order: a rank that ends its script instead\n" ..
    "makes the ranks waiting for it fail with a message naming it.",
    example = [[
nn.dist.barrier()]]}

add{"dist", "nn.dist.allreduce", "nn.dist.allreduce(t [, op]) -> t",
    "Combines t over the ranks in place: op \"sum\" (default), \"mean\", \"max\"\n" ..
    "or \"min\"; every rank gets the same values. Every rank's t must have the\n" ..
    "same shape (else all of them raise the same error). For a custom loop:\n" ..
    "average each weight's .grad after backward, then step.",
    example = [[
local t = nn.tensor({1, 2, 3}) * (nn.dist.rank() + 1)
nn.dist.allreduce(t, "mean")
print(t) -- one process: 1 2 3; two ranks: 1.5 3 4.5]]}

add{"dist", "nn.dist.broadcast", "nn.dist.broadcast(t, root) -> t",
    "Copies rank root's t into every rank's t (in place, same shapes).",
    example = [[
local w = nn.randn(2, 2)
nn.dist.broadcast(w, 0) -- every rank now has rank 0's w]]}

add{"dist", "nn.dist.allgather", "nn.dist.allgather(t) -> tensor",
    "A new tensor: every rank's t one after another in rank order, along the\n" ..
    "first dimension (which may differ between ranks; the others must agree).",
    example = [[
local all = nn.dist.allgather(nn.ones(2, 3) * nn.dist.rank())
print(#all) -- 2 * nn.dist.size() rows]]}

add{"dist", "nn.dist.stats", "nn.dist.stats([reset]) -> table",
    "What the collectives cost so far (since the last reset): steps, buckets\n" ..
    "(the gradient sums started during the backward pass) and their bytes,\n" ..
    "wait_seconds (time steps waited for buckets after the backward pass: the\n" ..
    "communication not hidden), reductions and reduce_seconds (the other\n" ..
    "collectives: logs, metrics, nn.dist calls), overlap (false under\n" ..
    "NNLUA_DIST_OVERLAP=0, which starts every bucket after the backward pass)\n" ..
    "and mpi (whether this nnlua was built with MPI). bench/dist.sh uses it.",
    example = [[
local s = nn.dist.stats(true)
print(s.steps, s.wait_seconds)]]}
