-- Every ```lua block of docs/*.md and README.md runs, so the docs cannot
-- drift from the program. How the blocks run:
--
-- - One nnlua process per Markdown file, in a fresh temporary folder as
--   its current directory (files the blocks write land there), with
--   DISPLAY unset (a plot without a file draws as text, never a window).
-- - Each block is its own chunk, in the order of the file. A `local` at
--   the start of a line (column 0: the block's top level) is run as a
--   global assignment, so a later block sees what an earlier one made,
--   as if the page were typed into one session; locals inside functions
--   and indented code stay local. The first failing block stops the file.
-- - A block whose preceding line (blank lines aside) is
--   `<!-- norun: reason -->` is skipped; the reason is required, and the
--   test fails on a norun without one.
-- - Paths relative to the repository work: the folder holds links
--   examples/, tests/ and docs/ to the source tree (so
--   nn.data.csv("examples/data/iris.csv") runs the same from a checkout's
--   top folder and here), and NNLUA_SRC names the source tree.
-- - A failure names the file and the first line of the block; the error
--   itself carries the Markdown line (chunks are named after the file and
--   keep its line numbers).
--
-- Run by hand: nnlua tests/lua/test_docs.lua (from tests/lua), or
-- nnlua test_docs.lua --run docs/x.md to run one file's blocks in the
-- current folder (what the parent does per file).
local here = io.popen("pwd"):read("l")
local src = os.getenv("NNLUA_SRC") or (here .. "/../..")

-- The lua blocks of a Markdown text: {line = first code line, lines,
-- norun = reason or false, bad_norun = true when the reason is missing}.
-- Every fenced block is scanned (a ``` inside a sh block is not a lua
-- block's end), the lua ones are kept.
local function blocks_of(text)
  local list, lineno, prev, inside = {}, 0, nil, nil
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  for line in text:gmatch("(.-)\n") do
    lineno = lineno + 1
    if inside then
      if line:match("^%s*```%s*$") then
        if inside.lua then list[#list + 1] = inside end
        inside = nil
      elseif inside.lua then
        -- a block indented under a list item loses the fence's indent
        if line:sub(1, #inside.indent) == inside.indent then line = line:sub(#inside.indent + 1) end
        inside.lines[#inside.lines + 1] = line
      end
    elseif line:match("^%s*```") then
      inside = {lua = line:match("^%s*```lua%s*$") ~= nil, line = lineno + 1, lines = {},
                norun = false, indent = line:match("^(%s*)")}
      local tag = prev and prev:match("^%s*<!%-%-%s*norun(.-)%-%->%s*$")
      if tag and inside.lua then
        local reason = tag:match("^%s*:%s*(.-)%s*$")
        if reason and reason ~= "" then inside.norun = reason else inside.bad_norun = true end
      end
    end
    if line:match("%S") then prev = line end
  end
  return list
end

-- The code of a block as its chunk: top-level locals as globals, and as
-- many newlines first as put its lines at their line in the file.
local function chunk_of(b)
  local out = {}
  for i, line in ipairs(b.lines) do
    local rest = line:match("^local%s+(.*)$")
    if rest then
      local fname = rest:match("^function%s+(.*)$")
      if fname then
        line = "function " .. fname
      elseif not rest:find("<close>", 1, true) then
        rest = rest:gsub("%s*<const>", "")
        local names, value = rest:match("^([%w_,%s]-)%s*=%s*(.*)$")
        if names then
          line = names .. " = " .. value
        else
          local only, comment = rest:match("^([%w_,%s]-)%s*(%-%-.*)$")
          only = only or rest
          line = only .. " = nil" .. (comment and (" " .. comment) or "")
        end
      end
    end
    out[i] = line
  end
  return string.rep("\n", b.line - 1) .. table.concat(out, "\n") .. "\n"
end

-- Child mode: run the blocks of one file here, print one line per block.
if arg and arg[1] == "--run" then
  local path, name = arg[2], arg[3] or arg[2]
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local failed = false
  for _, b in ipairs(blocks_of(text)) do
    if b.bad_norun then
      print(string.format("FAIL %s:%d: <!-- norun --> needs a reason: <!-- norun: why -->",
                          name, b.line))
      failed = true
    elseif b.norun then
      print(string.format("SKIP %s:%d: %s", name, b.line, b.norun))
    else
      local fn, err = load(chunk_of(b), "@" .. name, "t")
      local ok = fn ~= nil
      if ok then ok, err = xpcall(fn, debug.traceback) end
      if ok then
        print(string.format("OK %s:%d", name, b.line))
      else
        print(string.format("FAIL %s:%d: the block starting at line %d: %s", name, b.line,
                            b.line, tostring(err)))
        failed = true
        break -- later blocks build on this one
      end
    end
    io.stdout:flush()
  end
  os.exit(failed and 1 or 0, true) -- close the state: no leak report under ASan
end

local H = dofile("helper.lua") -- after the child mode: the child runs in a temp dir
local check = H.check
local bin = os.getenv("NNLUA_BIN") or "nnlua"
local self = here .. "/test_docs.lua"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The Markdown files: docs/*.md and README.md, by name.
local files = {}
local p = io.popen("cd " .. sh_quote(src) .. " && ls docs/*.md README.md 2>/dev/null")
for line in p:lines() do files[#files + 1] = line end
p:close()
table.sort(files)

H.test("the block scanner", function()
  local text = table.concat({
    "text", "```lua", "local a = 1", "```", "", "<!-- norun: needs mpirun -->", "",
    "```lua", "error('never')", "```", "```sh", "echo no", "```", "<!-- norun -->",
    "```lua", "x = 1", "```", "```lua", "local function f() local y = 2 return y end",
    "local p, q <const> = 1, 2", "local r", "  local s = 3", "```",
    "- a list item:", "", "  ```lua", "  local t = 4", "  ```"}, "\n")
  local b = blocks_of(text)
  check(#b == 5, "five lua blocks, got " .. #b)
  check(b[5].lines[1] == "local t = 4", "an indented block loses its indent")
  check(b[1].line == 3 and b[1].lines[1] == "local a = 1" and not b[1].norun)
  check(b[2].norun == "needs mpirun", "the norun reason")
  check(b[3].bad_norun, "a norun without a reason is flagged")
  local c = chunk_of(b[4])
  check(select(2, c:gsub("\n", "")) == 22, "the chunk keeps the file's line numbers")
  check(c:find("\nfunction f() local y = 2 return y end\n", 1, true), c)
  check(c:find("\np, q = 1, 2\n", 1, true) and c:find("\nr = nil\n", 1, true), c)
  check(c:find("\n  local s = 3\n", 1, true), "indented locals stay: " .. c)
end)

H.test("docs and README were found", function()
  check(#files >= 2, "no Markdown files under " .. src)
end)

local ran, skipped = 0, 0
for _, file in ipairs(files) do
  local fh = assert(io.open(src .. "/" .. file, "rb"))
  local count = #blocks_of(fh:read("a"))
  fh:close()
  if count > 0 then
    H.test(file, function()
      local dir = os.tmpname()
      os.remove(dir)
      check(os.execute("mkdir " .. sh_quote(dir)), "a temp dir")
      for _, sub in ipairs{"examples", "tests", "docs"} do
        os.execute(string.format("ln -s %s %s", sh_quote(src .. "/" .. sub),
                                 sh_quote(dir .. "/" .. sub)))
      end
      local cmd = string.format("cd %s && env -u DISPLAY NNLUA_SRC=%s %s %s --run %s %s 2>&1",
                                sh_quote(dir), sh_quote(src), sh_quote(bin), sh_quote(self),
                                sh_quote(src .. "/" .. file), sh_quote(file))
      local pipe = io.popen(cmd)
      local out = pipe:read("a")
      local ok = pipe:close()
      os.execute("rm -rf " .. sh_quote(dir))
      for _ in out:gmatch("\nOK ") do ran = ran + 1 end
      if out:sub(1, 3) == "OK " then ran = ran + 1 end
      for _ in out:gmatch("SKIP ") do skipped = skipped + 1 end
      local fail = out:match("FAIL [^\n]*.*")
      check(ok and not fail, fail or ("the blocks of " .. file .. " failed:\n" .. out))
    end)
  end
end
print(string.format("test_docs: %d blocks ran, %d marked norun, in %d files", ran, skipped,
                    #files))
H.done()
