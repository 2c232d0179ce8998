-- nn.plot in an MPI job (nn.dist): rank 0 draws, the other ranks skip
-- every plot (they return nil). Rank 0 draws on its own: the predictions a
-- plot makes (model:predict, model:evaluate) run on rank 0 alone instead
-- of as collectives the others would have to join. With one process
-- nothing changes.
local nn = ...

for name, f in pairs(nn.plot) do
  if type(f) == "function" and name:sub(1, 1) ~= "_" then
    nn.plot[name] = function(...)
      if nn.dist.size() == 1 then return f(...) end
      if nn.dist.rank() ~= 0 then return nil end
      return nn.dist._solo(f, ...)
    end
  end
end
