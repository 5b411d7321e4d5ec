-- KEYS: [market, inbound]  ARGV: [count]  Returns `inbound_after_cursor` (see its file).
--#include inbound_after_cursor.lua
return inbound_after_cursor(KEYS[1], KEYS[2], ARGV[1])
