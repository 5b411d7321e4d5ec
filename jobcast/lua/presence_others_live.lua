-- Whether the principal whose members start with `prefix` has a live entry other than `member`.
-- Members are JSON `["<principal id>", "<name>", "<connection id>"]`; the prefix is
-- `["<principal id>",`.
local function others_live(key, member, prefix, now)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf')) do
    if m ~= member and string.sub(m, 1, #prefix) == prefix then return true end
  end
  return false
end
