-- Shared helpers of the Lua tests (not a test itself): assertions that say
-- what differed, checkerr as in Lua's own testes, and a reporter that runs
-- named cases, keeps going after a failure and ends with "N passed, M failed".
local H = {}

-- Assertions made so far (every helper below that checks counts one).
local checks = 0

-- Raises msg (at the caller's level) unless cond holds.
function H.check(cond, msg)
  checks = checks + 1
  if not cond then error(msg or "check failed", 2) end
  return cond
end

-- Calls f(...) and requires it to fail with an error message containing
-- msg (plain text, not a pattern: messages hold shapes like "[2x3]").
-- Returns the message.
function H.checkerr(msg, f, ...)
  checks = checks + 1
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
  checks = checks + 1
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

-- Deep comparison, exact: eq_table(a, b) is true when nested tables of
-- numbers (or tensors, compared by their totable) hold the same values.
local function plain(v)
  if type(v) == "userdata" and v.totable then return v:totable() end
  return v
end
function H.eq_table(a, b)
  return eq(plain(a), plain(b))
end

-- True when numbers, nested tables or tensors a and b agree within tol
-- (absolute, default 1e-6) element by element, with the same structure.
function H.close(a, b, tol)
  return eq(plain(a), plain(b), tol or 1e-6)
end

-- Requires tensor t to hold exactly (or within tol) the nested table expect
-- and to have its shape.
function H.same(t, expect, tol)
  checks = checks + 1
  local got = t:totable()
  if not eq(got, expect, tol) then
    error("tensor " .. show(got) .. " differs from expected " .. show(expect), 2)
  end
end

-- Requires t:shape() to be the given dimensions.
function H.shape(t, ...)
  checks = checks + 1
  local got, want = {t:shape()}, {...}
  if not eq(got, want) then
    error("shape " .. show(got) .. " differs from expected " .. show(want), 2)
  end
end

-- Requires |a - b| <= tol.
function H.near(a, b, tol, what)
  checks = checks + 1
  if not (math.abs(a - b) <= tol) then
    error(string.format("%s: %.9g and %.9g differ by more than %g", what or "near",
                        a, b, tol), 2)
  end
end

-- The reporter. H.test(name, f) runs one case: an error in it is printed
-- with its traceback and counted, and the next case still runs.
-- H.done() prints "<script>: N passed, M failed (K checks)" and raises an
-- error when anything failed, so nnlua exits with status 1.
local passed, failed, failures = 0, 0, {}

function H.test(name, f)
  local ok, err = xpcall(f, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    failures[#failures + 1] = name
    io.stderr:write("FAIL ", name, ": ", tostring(err), "\n")
  end
end

function H.done()
  local script = (arg and arg[0] or "?"):match("([^/]+)%.lua$") or "?"
  print(string.format("%s: %d passed, %d failed (%d checks)", script, passed, failed, checks))
  if failed > 0 then
    error(failed .. " failed: " .. table.concat(failures, ", "), 0)
  end
  if passed == 0 then error("no test case ran", 0) end
end

return H
