-- Shared helpers of the MPI tests (tests/dist/*.lua, run by run.sh): a
-- check that names the rank, results written by a 1-process run and read
-- back by the ranks, the largest difference between two results, a hash
-- of a model's weight bits, and the "ok" line run.sh counts.
local C = {}

C.rank, C.size = nn.dist.rank(), nn.dist.size()

function C.check(cond, msg)
  if not cond then
    error(string.format("rank %d of %d: %s", C.rank, C.size, msg or "check failed"), 2)
  end
  return cond
end

-- Nested tables of numbers (tensors by their totable) as Lua source.
local function ser(v, out)
  if type(v) == "userdata" and v.totable then v = v:totable() end
  if type(v) == "table" then
    out[#out + 1] = "{"
    -- string keys first (sorted, so files compare), then the list part
    local keys = {}
    for k in pairs(v) do if type(k) == "string" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do
      out[#out + 1] = string.format("[%q]=", k)
      ser(v[k], out)
      out[#out + 1] = ","
    end
    for i = 1, #v do ser(v[i], out); out[#out + 1] = "," end
    out[#out + 1] = "}"
  elseif type(v) == "number" then
    if v ~= v then out[#out + 1] = "0/0"
    elseif v == math.huge then out[#out + 1] = "math.huge"
    elseif v == -math.huge then out[#out + 1] = "-math.huge"
    else out[#out + 1] = string.format("%.17g", v) end
  elseif type(v) == "string" then out[#out + 1] = string.format("%q", v)
  elseif type(v) == "boolean" then out[#out + 1] = tostring(v)
  else error("cannot write a " .. type(v)) end
end

function C.dump(path, v)
  local out = {"return "}
  ser(v, out)
  local f = assert(io.open(path, "w"))
  f:write(table.concat(out), "\n")
  f:close()
end

function C.load(path)
  return dofile(path)
end

local function plain(v)
  if type(v) == "userdata" and v.totable then return v:totable() end
  return v
end

-- The largest absolute difference between two nested results of the same
-- structure (an error when the structure differs: a missing epoch, key or
-- weight is a failure, not a difference).
function C.maxdiff(a, b, where)
  a, b = plain(a), plain(b)
  where = where or "result"
  if type(a) ~= type(b) then
    error(string.format("rank %d: %s: %s against %s", C.rank, where, type(a), type(b)), 2)
  end
  if type(a) == "number" then
    if a ~= a or b ~= b then return (a ~= a and b ~= b) and 0 or math.huge end
    return math.abs(a - b)
  end
  if type(a) ~= "table" then return a == b and 0 or math.huge end
  local d = 0
  for k, v in pairs(a) do
    if b[k] == nil then error(string.format("rank %d: %s.%s missing", C.rank, where, k), 2) end
    d = math.max(d, C.maxdiff(v, b[k], where .. "." .. tostring(k)))
  end
  for k in pairs(b) do
    if a[k] == nil then error(string.format("rank %d: %s.%s extra", C.rank, where, k), 2) end
  end
  return d
end

-- Every number of a nested table, in order.
local function flat(v, out)
  v = plain(v)
  if type(v) == "table" then for i = 1, #v do flat(v[i], out) end
  else out[#out + 1] = v end
  return out
end
C.flat = flat

-- FNV-1a (64 bits) over the float32 bytes of every weight of m, as hex.
function C.hash(m)
  local h = 0xcbf29ce484222325
  for _, w in ipairs(m:get_weights()) do
    for _, v in ipairs(flat(w, {})) do
      local s = string.pack("<f", v)
      for i = 1, 4 do
        h = h ~ s:byte(i)
        h = h * 0x100000001b3
      end
    end
  end
  return string.format("%016x", h)
end

-- The history of a fit as {key = {per epoch}}.
function C.history(h)
  local t = {}
  for k, v in pairs(h.history) do
    local l = {}
    for i = 1, #v do l[i] = v[i] end
    t[k] = l
  end
  return t
end

-- What run.sh counts: one per rank.
function C.ok(extra)
  io.write(string.format("rank %d of %d: ok%s\n", C.rank, C.size, extra and (" " .. extra) or ""))
  io.stdout:flush()
end

-- The directory of the test scripts (for dofile of this file).
C.dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."

return C
