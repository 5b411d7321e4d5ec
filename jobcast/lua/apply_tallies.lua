-- Cluster-wide counters, applied by the script that commits the change they count
-- (`jobcast.tallies`): `list` is [[KEYS index, field, amount], ...]; an amount with a '.' is a float.
local function apply_tallies(list)
  for _, t in ipairs(list) do
    if string.find(t[3], '.', 1, true) then
      redis.call('HINCRBYFLOAT', KEYS[t[1]], t[2], t[3])
    else
      redis.call('HINCRBY', KEYS[t[1]], t[2], t[3])
    end
  end
end
