-- Every examples/*.lua (found by listing the folder, so examples added
-- later are covered without touching this file):
-- - has a line in README.md's examples table;
-- - has the header the examples promise: a `-- Teaches:` line and a
--   `-- Runs in:` line;
-- - runs with --quick (examples without a quick mode ignore it) in a fresh
--   temporary folder as its current directory, DISPLAY unset, and exits 0
--   (77 means "skipped": its data set is not installed);
-- - writes the pictures it names: every "name.png" / "name.gif" literal of
--   its source must exist afterwards (unless its output says that name is
--   not drawn in this mode), every PNG it wrote is a picture
--   (H.check_png) and every GIF starts with a GIF signature.
-- The lessons of the teaching examples hold on their output (the right
-- learning rate ends lowest, early stopping cures overfitting, ...).
-- Examples that tests/lua/test_model_examples*.lua already run (found by
-- reading those files: run("name" ...)) are not run a second time here;
-- those tests check their figures, and their header is still checked.
local H = dofile("helper.lua")
local check = H.check

local bin = os.getenv("NNLUA_BIN") or "nnlua"
local here = io.popen("pwd"):read("l")
local src = os.getenv("NNLUA_SRC") or (here .. "/../..")
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines_of(cmd)
  local list = {}
  local p = io.popen(cmd)
  for line in p:lines() do list[#list + 1] = line end
  p:close()
  return list
end

-- Under AddressSanitizer (many times slower) the examples that take
-- --samples (the Fashion-MNIST ones) train on 500 images.
local function under_asan()
  local s = slurp("/proc/self/maps")
  return s ~= nil and s:find("libasan", 1, true) ~= nil
end
local extra = under_asan() and " --samples 500" or ""

local examples = lines_of("cd " .. q(src .. "/examples") .. " && ls *.lua")
table.sort(examples)

local elsewhere = {}
for _, t in ipairs(lines_of("ls " .. q(here) .. "/test_model_examples*.lua")) do
  for name in (slurp(t) or ""):gmatch('run%("([%w_]+)"') do elsewhere[name] = t:match("[^/]+$") end
end

H.test("the examples folder", function()
  check(#examples >= 10, "only " .. #examples .. " examples found in " .. src .. "/examples")
end)

-- README.md's examples table has a line for every example.
local readme = slurp(src .. "/README.md") or ""
H.test("README lists every example", function()
  local missing = {}
  for _, file in ipairs(examples) do
    if not readme:find("](examples/" .. file .. ")", 1, true) then missing[#missing + 1] = file end
  end
  check(#missing == 0, "README.md's examples table has no line for " ..
        table.concat(missing, ", ") .. " (add `| [x.lua](examples/x.lua) | what it teaches |`)")
end)

-- What some examples teach, checked on their output: the lesson must
-- hold (a change that breaks it is a broken example, not a new figure).
local lessons = {
  loss_functions = function(out)
    local n = 0
    for _ in out:gmatch("   same\n") do n = n + 1 end
    check(n == 5 and not out:find("DIFFERENT", 1, true), "every loss by hand = nnlua:\n" .. out)
  end,
  learning_rates = function(out)
    local l = {}
    for what, v in out:gmatch("(%a+ %a+)%s+final loss ([%d.]+)") do l[what] = tonumber(v) end
    check(l["too small"] and l["about right"] and l["too large"], out)
    check(l["about right"] < l["too small"] and l["about right"] < l["too large"],
          "the right learning rate ends lowest:\n" .. out)
  end,
  overfitting = function(out)
    local plain = tonumber(out:match("plain .- val loss ([%d.]+) after"))
    local best = tonumber(out:match("plain .- %(best ([%d.]+)"))
    local cured = tonumber(out:match("early stopping: .- val loss ([%d.]+) with"))
    check(plain and best and cured, out)
    check(plain > 2 * best, "the plain model overfits: " .. out)
    check(cured < plain / 2, "early stopping with restored weights cures it: " .. out)
  end,
  vanishing_gradients = function(out)
    local s = tonumber(out:match("sigmoid first%-layer gradient norm ([%d.e+-]+)"))
    local r = tonumber(out:match("relu    first%-layer gradient norm ([%d.e+-]+)"))
    check(s and r and s * 100 < r, "sigmoid's first layer gets far less gradient: " .. out)
  end,
  fashion_mlp = function(out)
    local acc = tonumber(out:match("fashion_mlp: test loss [%d.]+, accuracy ([%d.]+)"))
    check(acc and acc > (extra ~= "" and 0.3 or 0.6), "fashion_mlp --quick learns: " .. out)
  end,
}

local timings = {}
for _, file in ipairs(examples) do
  local name = file:gsub("%.lua$", "")
  local path = src .. "/examples/" .. file
  local code = slurp(path)
  H.test(name .. ": header", function()
    local head = code:match("^(.-)\n[^%-\n]") or code
    check(head:find("\n%-%- Teaches: %S") or head:find("^%-%- Teaches: %S"),
          file .. " has no '-- Teaches: ...' line in its header comment")
    check(head:find("\n%-%- Runs in: %S"), file .. " has no '-- Runs in: ...' line in its header")
  end)
  if elsewhere[name] then
    print(string.format("%s: run by %s", file, elsewhere[name]))
  else
    H.test(name .. ": runs and writes its pictures", function()
      local dir = os.tmpname()
      os.remove(dir)
      check(os.execute("mkdir " .. q(dir)), "a temp dir")
      -- the wall time, which CI's timeout counts (os.clock is CPU time)
      local p = io.popen(string.format("cd %s && t0=$(date +%%s%%N) && env -u DISPLAY %s %s " ..
                                       "--quick%s 2>&1; rc=$?; echo \"@ms $((($(date +%%s%%N) " ..
                                       "- t0) / 1000000))\"; exit $rc", q(dir), q(bin), q(path),
                                       code:find("--samples", 1, true) and extra or ""))
      local out = p:read("a")
      local _, _, status = p:close()
      local ms = tonumber(out:match("\n?@ms (%d+)\n$"))
      out = out:gsub("\n?@ms %d+\n$", "")
      timings[#timings + 1] = string.format("%s %.1f s", name, (ms or 0) / 1000)
      local ok, err = pcall(function()
        if status == 77 then
          print(file .. " skipped (exit 77): " .. (out:match("[^\n]*$") or ""))
          return
        end
        check(status == 0, string.format("%s --quick exited with %s:\n%s", file,
                                         tostring(status), out))
        if lessons[name] then lessons[name](out) end
        local written = {}
        for _, f in ipairs(lines_of("cd " .. q(dir) .. " && find . -type f")) do
          written[f:match("[^/]+$")] = f
        end
        for lit in code:gmatch('([%w_%-]+%.[pg][ni][gf])"') do
          check(written[lit] or out:find(lit, 1, true),
                string.format("%s names %s but did not write it (wrote: %s)", file, lit,
                              table.concat(lines_of("cd " .. q(dir) .. " && find . -type f"), " ")))
        end
        for base, rel in pairs(written) do
          if base:match("%.png$") then
            H.check_png(dir .. "/" .. rel)
          elseif base:match("%.gif$") then
            local g = slurp(dir .. "/" .. rel)
            check(g:sub(1, 6) == "GIF89a" or g:sub(1, 6) == "GIF87a", rel .. " is not a GIF")
          end
        end
      end)
      os.execute("rm -rf " .. q(dir))
      if not ok then error(err, 0) end
    end)
  end
end
print("test_examples: " .. table.concat(timings, ", "))
H.done()
