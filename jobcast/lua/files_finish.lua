-- A file job's outcome that keeps its result (`commit.lua`), with the result's bytes reserved in
-- its owner's stored-bytes ledger (`ledger_reserve.lua`) in the same step: the bytes are held
-- only by an outcome that commits, and the outcome commits only if the quota has room for them.
-- KEYS: the commit's keys (as `commit.lua`), then the ledger.
-- ARGV: the reservation's seven arguments (as `quota_reserve.lua`), then the commit's.
-- Returns {0, status} when the job is no longer as the commit expects (nothing reserved),
-- {-1, bytes the owner's other entries hold} past the quota (nothing committed), else what
-- `commit.lua` returns.
--#include ledger_reserve.lua
--#include commit_change.lua
local change = {unpack(ARGV, 8)}
local ok, current = change_expected(change)
if not ok then return {0, current} end
local held = ledger_reserve(KEYS[#KEYS], unpack(ARGV, 1, 7))
if held[1] ~= 0 then return {-1, held[2]} end
return commit_change(change)
