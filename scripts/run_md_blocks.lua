-- Runs the ```lua blocks of one markdown file the way the docs test does:
-- in this one nnlua process, one chunk per block (globals carry over,
-- locals do not), skipping a block preceded by <!-- norun: reason -->.
-- Usage: nnlua scripts/run_md_blocks.lua FILE.md  (run it in a scratch dir:
-- blocks write their pictures to the current directory). Prints each
-- block's number and time, and stops at the first failing block.
local path = assert(..., "usage: run_md_blocks.lua FILE.md")
local f = assert(io.open(path, "r"))
local text = f:read("a")
f:close()

local blocks, pending_norun, inblock, buf, start = {}, false, false, nil, 0
local n = 0
for line in (text .. "\n"):gmatch("(.-)\r?\n") do
  n = n + 1
  if inblock then
    if line:match("^```%s*$") then
      blocks[#blocks + 1] = {code = table.concat(buf, "\n"), line = start, norun = pending_norun}
      inblock, pending_norun = false, false
    else
      buf[#buf + 1] = line
    end
  elseif line:match("^```lua%s*$") then
    inblock, buf, start = true, {}, n
  elseif line:match("^<!%-%- norun:") then
    pending_norun = true
  elseif line:match("%S") and not line:match("^```") then
    -- a norun mark belongs to the next block only if nothing but blank
    -- lines separate them
    pending_norun = pending_norun and false
  end
end

local total = os.clock()
for i, b in ipairs(blocks) do
  if b.norun then
    io.stderr:write(string.format("block %d (line %d): norun\n", i, b.line))
  else
    local t0 = os.time()
    local c0 = os.clock()
    local chunk, err = load(b.code, "=" .. path .. ":" .. b.line, "t")
    if not chunk then error(err, 0) end
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      io.stderr:write(string.format("block %d (line %d) FAILED:\n%s\n", i, b.line, e))
      os.exit(1)
    end
    io.stderr:write(string.format("block %d (line %d): ok, %.1fs cpu, %ds\n",
                                  i, b.line, os.clock() - c0, os.time() - t0))
  end
end
io.stderr:write(string.format("%d blocks, %.1fs cpu\n", #blocks, os.clock() - total))
