-- nn.data.csv from Lua: label mapping, header detection, options, and the
-- error messages (file, line, column) for bad input.

local function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end

-- Calls f(...) and checks that it raises an error containing msg.
local function checkerr(msg, f, ...)
  local ok, err = pcall(f, ...)
  check(not ok, "expected an error containing: " .. msg)
  err = tostring(err)
  check(err:find(msg, 1, true), "error '" .. err .. "' does not contain '" .. msg .. "'")
end

local files = {}
local function write(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  files[#files + 1] = path
  return path
end

-- String labels: classes 1..k in order of first appearance.
do
  local p = write("a,b,kind\n1,2,dog\n3,4,cat\n5,6,dog\n")
  local x, y, info = nn.data.csv(p)
  check(#x == 3 and select(2, x:shape()) == 2, "x is 3x2")
  check(y:get(1) == 1 and y:get(2) == 2 and y:get(3) == 1, "dog=1, cat=2")
  check(info.classes[1] == "dog" and info.classes[2] == "cat", "classes in order")
  check(info.columns[1] == "a" and info.columns[2] == "b", "columns")
  check(info.label == "kind" and info.header == true, "label name and header")
  check(x:get(3, 2) == 6, "last value")
end

-- Numeric labels stay as they are unless opts.classes.
do
  local p = write("x,y\n1,0\n2,2\n3,1\n")
  local _, y, info = nn.data.csv(p)
  check(y:get(2) == 2 and info.classes == nil, "numeric labels kept")
  _, y, info = nn.data.csv(p, {classes = true})
  check(y:get(1) == 1 and y:get(2) == 3 and y:get(3) == 2, "sorted classes")
  check(info.classes[1] == "0" and info.classes[3] == "2", "class names")
end

-- A number label column with one word in it is refused, naming the line,
-- unless classes are asked for: it used to become string classes silently.
do
  local p = write("x,y\n1,0\n2,1\n3,n/a\n4,1\n")
  checkerr(":4: label 'n/a' is not a number, but the 2 labels before it are: fix the cell, " ..
           "or pass classes = true", nn.data.csv, p)
  local _, y, info = nn.data.csv(p, {classes = true})
  check(info.classes[3] == "n/a" and y:get(3) == 3, "with classes = true: names")
end

-- Label by name, by number, or none; header forced; separator.
do
  local p = write("a,target,b\n1,5,2\n3,6,4\n")
  local x, y = nn.data.csv(p, {label = "target"})
  check(y:get(2) == 6 and x:get(2, 2) == 4, "label by name")
  x, y = nn.data.csv(p, {label = 1})
  check(y:get(1) == 1 and x:get(1, 1) == 5, "label by number")
  local x2, y2, info = nn.data.csv(p, {label = false})
  check(y2 == nil and select(2, x2:shape()) == 3 and #info.columns == 3, "no label")
  local q = write("1;2;3\n4;5;6\n")
  x, y = nn.data.csv(q, {sep = ";", header = true})
  check(#x == 1 and y:get(1) == 6, "header = true takes the first row")
  checkerr("opts.sep must be one character", nn.data.csv, q, {sep = ";;"})
  checkerr("no column named 'nope'", nn.data.csv, p, {label = "nope"})
end

-- Quoted fields, CRLF, blank lines, byte order mark.
do
  local p = write('\239\187\191"x, 1","y"\r\n\r\n"1.5",2\r\n3,"4"\r\n')
  local x, y, info = nn.data.csv(p)
  check(info.columns[1] == "x, 1", "quoted header with separator")
  check(#x == 2 and x:get(1, 1) == 1.5 and y:get(2) == 4, "values")
end

-- Errors name the file, the line and the column.
do
  local p = write("a,b,c\n1,2,3\n4,x,6\n")
  checkerr(p .. ":3: column 2 (b): 'x' is not a number", nn.data.csv, p)
  local q = write("a,b,c\n1,2,3\n4,5\n")
  checkerr(q .. ":3: row has 2 columns, expected 3", nn.data.csv, q)
  checkerr("nn.data.csv", nn.data.csv, "/no/such/file.csv")
  checkerr("cannot open", nn.data.csv, "/no/such/file.csv")
end

for _, p in ipairs(files) do os.remove(p) end
print("test_data_csv: ok")
