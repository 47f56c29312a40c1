/**
 * Lua scripts of the Redis transport. Each runs atomically on the server, so a crash between
 * "ack the failed delivery" and "store its retry" cannot lose or duplicate it, and due times use
 * the Redis clock (no skew between instances).
 */

/** Milliseconds on the Redis clock (TIME is allowed in scripts since Redis 5 effect replication). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Acks a failed delivery and stores its retry, in one step.
 * KEYS: source stream, delayed ZSET, retry stream.
 * ARGV: group, entry id, delay ms, '1' to XDEL the source entry (retry-stream entries), member
 * (JSON `[uid, field, value, ...]`: the retry entry's fields behind a unique token).
 * Returns 0 when the entry was no longer pending (another consumer took it over and acked it):
 * nothing is scheduled then, so a takeover never doubles a retry.
 */
export const SCHEDULE_RETRY = `${NOW}
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] == '1' then redis.call('XDEL', KEYS[1], ARGV[2]) end
if acked == 0 then return 0 end
local delay = tonumber(ARGV[3])
if delay <= 0 then
  local fields = cjson.decode(ARGV[5])
  table.remove(fields, 1)
  redis.call('XADD', KEYS[3], '*', unpack(fields))
else
  redis.call('ZADD', KEYS[2], now + delay, ARGV[5])
end
return 1`;

/**
 * Moves due retries from the delayed ZSET to the retry stream.
 * KEYS: delayed ZSET, retry stream. ARGV: most entries to move.
 * Returns `[moved, msUntilNextDue]` (-1 when nothing else waits).
 */
export const MOVE_DUE = `${NOW}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, member in ipairs(due) do
  local fields = cjson.decode(member)
  table.remove(fields, 1)
  redis.call('XADD', KEYS[2], '*', unpack(fields))
  redis.call('ZREM', KEYS[1], member)
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if first[2] then return {#due, math.max(0, tonumber(first[2]) - now)} end
return {#due, -1}`;
