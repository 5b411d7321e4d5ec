-- A file job's slot claim (`files_slot.lua`) and its start (`commit.lua`) in one step: the
-- start commits only once a slot is claimed, and a job that may not run yet changes nothing.
-- KEYS: the commit's keys (as `commit.lua`), then the slot's three (as `files_slot.lua`).
-- ARGV: the slot's seven arguments (as `files_slot.lua`), then the commit's (as `commit.lua`).
-- Returns {-1} when the job must wait, else what `commit.lua` returns.
--#include claim_slot.lua
--#include commit_change.lua
local n = #KEYS
if claim_slot({KEYS[n - 2], KEYS[n - 1], KEYS[n]}, {unpack(ARGV, 1, 7)}) == 0 then
  return {-1}
end
return commit_change({unpack(ARGV, 8)})
