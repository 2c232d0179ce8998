-- nn.callbacks.GradientLogger: per-layer gradient norms over training, for
-- seeing vanishing and exploding gradients (nn.plot.gradients draws them).
local nn = ...

-- GradientLogger{every = "epoch" | "batch"}: after each training step it
-- reads model:gradient_norms() (the step's gradients, what the optimizer
-- applied); per epoch it records their mean over the epoch's batches, or
-- with every = "batch" one point per batch. logger.history is
-- {layers = {names in model order}, steps = {1, 2, ...}, norms = {name =
-- {values}}, unit = "epoch" | "batch"}.
function nn.callbacks.GradientLogger(opts, extra)
  local fn = "nn.callbacks.GradientLogger"
  local Callback = getmetatable(nn.callbacks.TerminateOnNaN())
  opts = Callback.__args(fn, opts, extra, {every = "string"})
  local every = opts.every or "epoch"
  if every ~= "epoch" and every ~= "batch" then
    error(fn .. ": every must be 'epoch' or 'batch', got '" .. every .. "'", 2)
  end
  local self = setmetatable({class = "GradientLogger"}, Callback)
  local sums, count
  local function record(step, means)
    local h = self.history
    h.steps[#h.steps + 1] = step
    for _, name in ipairs(h.layers) do
      local list = h.norms[name]
      list[#list + 1] = means[name] or 0 / 0
    end
  end
  function self.on_train_begin()
    local layers = {}
    for i = 1, #self.model.layers do
      local l = self.model.layers[i]
      if #l:trainable_weights() > 0 then layers[#layers + 1] = l.name end
    end
    local norms = {}
    for _, name in ipairs(layers) do norms[name] = {} end
    self.history = {layers = layers, steps = {}, norms = norms, unit = every}
    self.batches = 0
  end
  function self.on_epoch_begin()
    sums, count = {}, 0
  end
  function self.on_batch_end()
    self.batches = self.batches + 1
    local g = self.model:gradient_norms()
    if every == "batch" then
      local now = {}
      for _, e in ipairs(g) do now[e.name] = e.norm end
      record(self.batches, now)
      return
    end
    for _, e in ipairs(g) do sums[e.name] = (sums[e.name] or 0) + e.norm end
    count = count + 1
  end
  function self.on_epoch_end(epoch)
    if every ~= "epoch" or count == 0 then return end
    local means = {}
    for name, s in pairs(sums) do means[name] = s / count end
    record(epoch, means)
  end
  return self
end
