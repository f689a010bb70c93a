import { CREATED, INPUT_SUFFIX } from './redis-records.js'

/**
 * Ends an active job using only commands Redis still runs at maxmemory (noeviction): DEL, SREM,
 * HDEL and EXPIRE free memory or change none, while HSET and SETBIT are refused ("denyoom"). So
 * the job cannot be given status `failed`; instead its `status` field is removed, which the
 * record reader shows as failed because the store was full (redis-records.ts); it also leaves its
 * client's active set (`<active>:<client>`, as activeOf names it), and its list expires with its last job. KEYS job, done, active, partials; ARGV ttl,
 * id: 'ended', or 'ended-before' if it was no longer active.
 */
export const endWhenFullLua = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 'ended-before' end
redis.call('DEL', KEYS[2], KEYS[4], KEYS[1] .. '${INPUT_SUFFIX}')
redis.call('SREM', KEYS[3], ARGV[2])
local client = redis.call('HGET', KEYS[1], 'client') or ''
redis.call('SREM', KEYS[3] .. ':' .. client, ARGV[2])
if redis.call('SCARD', KEYS[3] .. ':' .. client) == 0 then redis.call('EXPIRE', '${CREATED}:' .. client, ARGV[1]) end
redis.call('HDEL', KEYS[1], 'status', 'startedAt')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 'ended'`
