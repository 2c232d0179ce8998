-- nn.help entry of nn.callbacks.LearningRateWarmup (lua/20_callbacks.lua);
-- lua/90_help.lua merges it into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"callbacks", "nn.callbacks.LearningRateWarmup",
    "nn.callbacks.LearningRateWarmup{epochs = 5 | steps = n, start = lr / ranks, target = lr, verbose = 0}",
    "Gradual warm-up (Goyal et al. 2017): over the first epochs (or steps) batches\n" ..
    "the rate rises linearly per batch from start to target, the rate the model\n" ..
    "has when fit starts; step s of n trains at start + (target - start) *\n" ..
    "(s - 1) / n and the rate is target exactly once step n is done, then left\n" ..
    "alone (a LearningRateScheduler takes over). Steps count from epoch 1, so\n" ..
    "fit{initial_epoch = k} continues the ramp or, past it, changes nothing.\n" ..
    "The default start divides the rate by the number of ranks (the linear\n" ..
    "scaling rule: batch * k, lr * k). Logs learning_rate; verbose = 1 prints\n" ..
    "a line when the warm-up ends.",
    example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
local sgd = nn.optimizers.SGD{lr = 0.4}
model:compile{loss = "binary_crossentropy", optimizer = sgd}
-- 2 batches an epoch: 6 steps at 0.1, 0.15, ..., 0.35, then 0.4
local warmup = nn.callbacks.LearningRateWarmup{epochs = 3, start = 0.1}
local h = model:fit(x, y, {epochs = 5, batch_size = 2, verbose = 0,
                           callbacks = {warmup}})
-- each epoch's last rate: 0.15 0.25 0.4 0.4 0.4
print(table.concat(h.history.learning_rate, " "))]]}
