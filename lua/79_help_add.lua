-- The two calls a help file (lua/8N_help_*.lua) needs, defined once before
-- them (files run in name order); lua/90_help.lua merges what they collect
-- into nn.help and docs/api.md.
--   local add = nn._help_add
--   add{topic, name, usage, text, example = [[...]]}
--       an entry: name is what nn.help is asked for ("nn.plot.lines",
--       "t:sum" as "Tensor:sum", "model:fit"), usage the call as written,
--       text the explanation (lines of at most 80 columns), example a short
--       snippet that runs in a fresh nnlua (tests/lua/test_help_api.lua runs
--       every one; plots write to a temporary file).
--   nn._help_add_topic{name, summary [, after = "plots"] [, list = f]
--                      [, example = [[...]]]}
--       a topic of its own (nn.help("explain")); list() may return rows
--       {name, line [, entry]} listed before the topic's entries.
-- Older help files that keep nn._help_extra themselves still work: this
-- file starts the same list.
local nn = ...

nn._help_extra = nn._help_extra or {}
nn._help_topics = nn._help_topics or {}

function nn._help_add(e)
  nn._help_extra[#nn._help_extra + 1] = e
end

function nn._help_add_topic(t)
  nn._help_topics[#nn._help_topics + 1] = t
end
