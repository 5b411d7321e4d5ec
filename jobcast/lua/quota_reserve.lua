-- KEYS: [ledger]  ARGV: entry, bytes, expires_at, now, max_bytes, max_streaming, max_active
-- (`ledger_reserve.lua` says what each means and what is returned).
--#include ledger_reserve.lua
return ledger_reserve(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
