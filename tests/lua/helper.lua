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

-- Layer kinds. The fit checks of the layer tests: n labels 1 or 0, the
-- label of sample i being whether f(i) holds.
function H.labels(n, f)
  local y = nn.zeros(n, 1)
  for i = 1, n do y:set(i, 1, f(i) and 1 or 0) end
  return y
end

-- Compiles m for binary cross-entropy with Adam{lr = o.lr} (and
-- o.metrics), fits x, y for o.epochs in batches of 8, and requires the
-- last loss below o.ratio (default 1) times the first; then saves and
-- loads m and requires the copy to predict x the same to the bit.
-- Returns the copy and the history.
function H.fit_save_load(m, x, y, o)
  m:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = o.lr},
            metrics = o.metrics}
  local h = m:fit(x, y, {epochs = o.epochs, batch_size = 8, verbose = 0})
  H.check(h.history.loss[o.epochs] < (o.ratio or 1) * h.history.loss[1], "the loss went down")
  local path = os.tmpname()
  m:save(path)
  local m2 = nn.load(path)
  os.remove(path)
  H.check(H.close(m:predict(x), m2:predict(x), 0), "the loaded model predicts the same")
  return m2, h
end

-- MaxPooling2D and AveragePooling2D (kind): the constructor forms,
-- layer.<option> and option errors.
function H.check_pool2d_constructor(kind)
  local new, check, checkerr = nn[kind], H.check, H.checkerr
  local p = new(3)
  check(p.type == kind and H.eq(p.pool_size, {3, 3}) and H.eq(p.strides, {3, 3}))
  local q = new{pool_size = {2, 3}, strides = 1, padding = "same"}
  check(H.eq(q.pool_size, {2, 3}) and H.eq(q.strides, {1, 1}) and q.padding == "same")
  check(new().pool_size[1] == 2, "Keras's default pool_size 2")
  checkerr("nn." .. kind .. ": unknown option 'pool'", new, {pool = 2})
  checkerr("pool_size must be an integer or a list of 2 integers", new, {1, 2, 3})
end

-- A 2-D window kind in a small CNN: its output shape, a fit, save and load.
function H.check_pool2d_in_cnn(kind)
  nn.seed(6)
  local m = nn.Sequential{
    nn.Conv2D(4, 3, {activation = "relu", input_shape = {8, 8, 1}, padding = "same"}),
    nn[kind](2),
    nn.Flatten(),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  H.check(H.eq(m.layers[2].output_shape, {4, 4, 4}))
  local x = nn.randn(24, 8, 8, 1)
  local y = H.labels(24, function(i) return x:get(i, 2, 2, 1) > 0 end)
  local m2 = H.fit_save_load(m, x, y, {lr = 0.02, epochs = 30})
  H.check(m2.layers[2].type == kind)
end

-- GlobalAveragePooling2D and GlobalMaxPooling2D (kind, its Keras name
-- snake): the constructor forms, layer.<option> and errors.
function H.check_global_pool_constructor(kind, snake)
  local new, check, checkerr = nn[kind], H.check, H.checkerr
  local p = new()
  check(p.type == kind and p.keepdims == false and p.draw == "none")
  check(p.name:find("^" .. snake), "Keras's default name")
  check(new{keepdims = true}.keepdims == true)
  checkerr("nn." .. kind .. ": unknown option 'pool_size'", new, {pool_size = 2})
  checkerr("option 'keepdims' must be true or false", new, {keepdims = 1})
  checkerr(kind .. " takes images {height, width, channels} per sample, got (None, 8)",
           function() return nn.Sequential{new{input_shape = {8}}} end)
end

-- A global kind's summary after a Conv2D as Keras prints it, and its
-- values on one 2x2x2 image ({{1, 10}, {2, 20}}, {{3, 30}, {4, 40}}):
-- want, {1, 1, 1, 2} with keepdims.
function H.check_global_pool_summary(kind, want)
  local check = H.check
  local m = nn.Sequential{
    nn.Conv2D(16, 3, {activation = "relu", input_shape = {9, 9, 3}}),
    nn[kind](),
    nn.Dense(10, {activation = "softmax"}),
  }
  local s = m:summary{print = false}
  check(s:find("(None, 7, 7, 16)", 1, true) and s:find("448", 1, true))
  check(s:find("(" .. kind .. ")", 1, true) and s:find("(None, 16)", 1, true))
  check(m:count_params() == 448 + 170)
  check(H.eq(m.layers[2].output_shape, {16}))
  local g = nn.Sequential{nn[kind]{input_shape = {2, 2, 2}}}
  local x = nn.tensor{{{{1, 10}, {2, 20}}, {{3, 30}, {4, 40}}}}
  check(H.close(g:predict(x), nn.tensor{want}, 1e-6))
  local k = nn.Sequential{nn[kind]{input_shape = {2, 2, 2}, keepdims = true}}
  check(H.eq({k:predict(x):shape()}, {1, 1, 1, 2}))
end

-- A global kind after a Conv2D fits labels label(x, i) on 6x6 images,
-- saves and loads.
function H.check_global_pool_fit(kind, label)
  nn.seed(6)
  local m = nn.Sequential{
    nn.Conv2D(6, 3, {activation = "relu", input_shape = {6, 6, 1}, padding = "same"}),
    nn[kind](),
    nn.Dense(1, {activation = "sigmoid"}),
  }
  local n = 32
  local x = nn.randn(n, 6, 6, 1)
  local y = H.labels(n, function(i) return label(x, i) end)
  local m2 = H.fit_save_load(m, x, y, {lr = 0.03, epochs = 40})
  H.check(m2.layers[2].type == kind)
end

-- The Lua test cases of a 2-D window kind (the constructor; in a CNN).
function H.test_pool2d_kind(kind)
  H.test("constructor, fields, errors", function() H.check_pool2d_constructor(kind) end)
  H.test("in a CNN: shapes, fit, save and load", function() H.check_pool2d_in_cnn(kind) end)
end

-- The Lua test cases of a global kind: constructor and errors, summary and
-- values (want), a fit on labels label(x, i).
function H.test_global_pool_kind(kind, snake, want, label)
  H.test("constructor, fields, errors", function()
    H.check_global_pool_constructor(kind, snake)
  end)
  H.test("summary and values", function() H.check_global_pool_summary(kind, want) end)
  H.test("in a CNN: fit, save and load", function() H.check_global_pool_fit(kind, label) end)
end

-- What tests/tools/pngstat says of the PNG at path: {width, height,
-- colours, nonbg}, or nil and its message. nil, "unset" when the tool is
-- not known (NNLUA_PNGSTAT is set by tests/CMakeLists.txt).
function H.pngstat(path)
  local tool = os.getenv("NNLUA_PNGSTAT")
  if not tool or tool == "" then return nil, "unset" end
  local p = io.popen(string.format("'%s' '%s' 2>&1", tool, path))
  local out = p:read("a")
  local ok = p:close()
  local w, h, c, f = out:match("^width (%d+) height (%d+) colours (%d+) nonbg ([%d.]+)")
  if not ok or not w then return nil, out end
  return {width = tonumber(w), height = tonumber(h), colours = tonumber(c), nonbg = tonumber(f)}
end

-- Requires path to be a PNG with a size and something drawn on it: at
-- least 3 colours and 1% of the pixels off the background (a blank or
-- one-line picture fails). Without NNLUA_PNGSTAT it checks the signature,
-- a non-zero IHDR size and more than 2000 bytes. Returns pngstat's figures
-- (or the IHDR size) for further checks.
function H.check_png(path)
  checks = checks + 1
  local f = io.open(path, "rb")
  if not f then error("no PNG at " .. path, 2) end
  local data = f:read("a")
  f:close()
  if data:sub(1, 8) ~= "\137PNG\r\n\26\n" then error(path .. " is not a PNG", 2) end
  local st, err = H.pngstat(path)
  if not st and err ~= "unset" then error("pngstat " .. path .. ": " .. err, 2) end
  if not st then
    local w, h = string.unpack(">I4I4", data, 17)
    if w == 0 or h == 0 or #data <= 2000 then
      error(string.format("%s: %dx%d, %d bytes: empty", path, w, h, #data), 2)
    end
    return {width = w, height = h}
  end
  if st.width == 0 or st.height == 0 then error(path .. ": zero size", 2) end
  if st.colours < 3 or st.nonbg < 0.01 then
    error(string.format("%s looks blank: %d colours, %.2f%% off the background",
                        path, st.colours, 100 * st.nonbg), 2)
  end
  return st
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
