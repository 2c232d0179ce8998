-- Shared helpers of the Lua tests (not a test itself): assertions that say
-- what differed, and checkerr as in Lua's own testes.
local H = {}

-- Raises msg (at the caller's level) unless cond holds.
function H.check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
  return cond
end

-- Calls f(...) and requires it to fail with an error message containing
-- msg (plain text, not a pattern: messages hold shapes like "[2x3]").
-- Returns the message.
function H.checkerr(msg, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error containing '" .. msg .. "', got success", 2) end
  err = tostring(err)
  if not err:find(msg, 1, true) then
    error("error '" .. err .. "' does not contain '" .. msg .. "'", 2)
  end
  return err
end

-- checkerr for luaL_argerror messages: "bad argument #n to 'f' (tail)",
-- where Lua names f as it was reached ('sum', 'nn.Tensor.sum', ...).
function H.checkargerr(n, tail, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an argument error, got success", 2) end
  err = tostring(err)
  if not (err:find("bad argument #" .. n .. " to '", 1, true) and
          err:find("' (" .. tail .. ")", 1, true)) then
    error("error '" .. err .. "' is not argument #" .. n .. " with (" .. tail .. ")", 2)
  end
  return err
end

-- The float32 value nearest to x (what a tensor stores for x).
function H.f32(x)
  return (string.unpack("f", string.pack("f", x)))
end

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  for i = 1, #v do parts[i] = show(v[i]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
H.show = show

-- Deep comparison of nested tables of numbers; tol (default 0) is the
-- largest absolute difference allowed. NaN equals NaN here.
local function eq(a, b, tol)
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then
    if a ~= a and b ~= b then return true end
    return a == b or (tol and math.abs(a - b) <= tol) or false
  end
  if #a ~= #b then return false end
  for i = 1, #a do if not eq(a[i], b[i], tol) then return false end end
  return true
end
H.eq = eq

-- Requires tensor t to hold exactly (or within tol) the nested table expect
-- and to have its shape.
function H.same(t, expect, tol)
  local got = t:totable()
  if not eq(got, expect, tol) then
    error("tensor " .. show(got) .. " differs from expected " .. show(expect), 2)
  end
end

-- Requires t:shape() to be the given dimensions.
function H.shape(t, ...)
  local got, want = {t:shape()}, {...}
  if not eq(got, want) then
    error("shape " .. show(got) .. " differs from expected " .. show(want), 2)
  end
end

-- Requires |a - b| <= tol.
function H.near(a, b, tol, what)
  if not (math.abs(a - b) <= tol) then
    error(string.format("%s: %.9g and %.9g differ by more than %g", what or "near",
                        a, b, tol), 2)
  end
end

return H
