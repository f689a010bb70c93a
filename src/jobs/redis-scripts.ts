import type { Redis } from 'ioredis'
import { endWhenFullLua } from './redis-full-job.js'
import { ACTIVE, CHANGED, CREATED, FINISHED, INPUT_SUFFIX, JOB_KEY } from './redis-records.js'

/**
 * The job document's state changes in Redis, each one Lua script: atomic, so replicas racing on the
 * same job (a chunk finishing while another replica cancels it, a chunk run twice after its replica
 * died) always leave one consistent document. Keys: the job's hash, its bitmap of finished chunks,
 * the set of active job ids. A job's client's own sets (active, finished) are named from the `client`
 * field of its hash, and evicted jobs' hashes from their ids: keys the scripts derive rather than
 * take, so they suit one Redis (or one hash slot), not a cluster spread over slots.
 */

/**
 * Bookkeeping of finished jobs (no task arithmetic): a finished job's id goes into the sorted sets of
 * finished ids, overall and of its client, scored by finish time; ids past their TTL are pruned by
 * score (their hash has expired), and past JOBS_MAX_STORED_PER_KEY / JOBS_MAX_STORED the oldest
 * other finished jobs are evicted: hash deleted, id out of both sets. The client's list (the set
 * CREATED:<client>) loses the same ids, and expires JOB_TTL_S after its last active job ended.
 */
const storeFinished = `
local function evictOldest(set, keep, id)
  local over = redis.call('ZCARD', set) - tonumber(keep)
  if over <= 0 then return end
  for _, old in ipairs(redis.call('ZRANGE', set, 0, over)) do
    if over > 0 and old ~= id then
      local client = redis.call('HGET', '${JOB_KEY}' .. old, 'client')
      if client then
        redis.call('ZREM', '${FINISHED}:' .. client, old)
        redis.call('ZREM', '${CREATED}:' .. client, old)
      end
      redis.call('ZREM', '${FINISHED}', old)
      -- Its Idempotency-Key goes with it: a retry then makes a new job rather than answer a lost one.
      local key = redis.call('HGET', '${JOB_KEY}' .. old, 'idempotencyKey')
      if key then redis.call('DEL', key) end
      redis.call('DEL', '${JOB_KEY}' .. old)
      over = over - 1
    end
  end
end
local function storeFinished(jobKey, id, finishedAt, ttl, maxPerClient, maxAll)
  local client = redis.call('HGET', jobKey, 'client') or ''
  local mine = '${FINISHED}:' .. client
  local created = '${CREATED}:' .. client
  local expired = tonumber(finishedAt) - tonumber(ttl) * 1000
  redis.call('ZREMRANGEBYSCORE', '${FINISHED}', '-inf', expired)
  if redis.call('EXISTS', mine) == 1 then
    for _, old in ipairs(redis.call('ZRANGEBYSCORE', mine, '-inf', expired)) do
      redis.call('ZREM', mine, old)
      redis.call('ZREM', created, old)
    end
  else
    -- The client's finished set expired (or never was) while its list lived on: drop ids whose job is gone.
    for _, old in ipairs(redis.call('ZRANGE', created, 0, -1)) do
      if redis.call('EXISTS', '${JOB_KEY}' .. old) == 0 then redis.call('ZREM', created, old) end
    end
  end
  -- Strictly after the newest, so "oldest" is exact among jobs finished in the same millisecond.
  local newest = redis.call('ZRANGE', '${FINISHED}', -1, -1, 'WITHSCORES')[2]
  local score = string.format('%.3f', math.max(tonumber(finishedAt), (tonumber(newest) or 0) + 0.001))
  redis.call('ZADD', '${FINISHED}', score, id)
  redis.call('ZADD', mine, score, id)
  redis.call('EXPIRE', mine, ttl)
  evictOldest(mine, maxPerClient, id)
  evictOldest('${FINISHED}', maxAll, id)
  if redis.call('SCARD', '${ACTIVE}:' .. client) == 0 then redis.call('EXPIRE', created, ttl) end
end

local function listCreated(jobKey, id)
  local created = '${CREATED}:' .. (redis.call('HGET', jobKey, 'client') or '')
  redis.call('ZADD', created, redis.call('HGET', jobKey, 'createdAt'), id)
  return created
end
`

/**
 * KEYS job, done, active, partials: ends the job with `status` (and any more fields), frees its place
 * (overall and its client's), drops its chunks' partials and its binary input, keeps it `ttl` seconds within the stored caps.
 */
const endJob = storeFinished + `
local function endJob(status, finishedAt, ttl, id, maxPerClient, maxAll, ...)
  redis.call('HSET', KEYS[1], 'status', status, 'finishedAt', finishedAt, ...)
  redis.call('SREM', KEYS[3], id)
  redis.call('SREM', '${ACTIVE}:' .. (redis.call('HGET', KEYS[1], 'client') or ''), id)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('DEL', KEYS[2], KEYS[4], KEYS[1] .. '${INPUT_SUFFIX}')
  storeFinished(KEYS[1], id, finishedAt, ttl, maxPerClient, maxAll)
end
`

/** A script: its keys' count, its source, and the replies it may give (anything else is a bug, thrown). */
interface Script<Reply extends string> {
  keys: number
  lua: string
  reply(value: unknown): Reply
}

function oneOf<Reply extends string> (...replies: Reply[]): (value: unknown) => Reply {
  return (value) => {
    if (replies.includes(value as Reply)) return value as Reply
    throw new Error(`a job script answered ${JSON.stringify(value)}, not one of ${replies.join(', ')}`)
  }
}

const scripts = {
  /**
   * KEYS job, active, the client's active; ARGV maxActive, maxPerClient, id, field, value...: 'client-full'
   * when the client has JOBS_MAX_ACTIVE_PER_KEY jobs active, 'full' when JOBS_MAX_ACTIVE jobs are, else 'queued'.
   */
  jobSubmit: {
    keys: 3,
    reply: oneOf('client-full', 'full', 'queued'),
    lua: storeFinished + `
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 'client-full' end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 'full' end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[3])
-- A binary input expires until the job is admitted, then lives as long as the job.
redis.call('PERSIST', KEYS[1] .. '${INPUT_SUFFIX}')
-- Kept while the client has an active job, however long it runs.
redis.call('PERSIST', listCreated(KEYS[1], ARGV[3]))
return 'queued'`
  },
  /** KEYS job; ARGV finishedAt, ttl, maxPerClient, maxAll, id, field, value...: stores a job finished at birth (an empty range). */
  jobStoreFinished: {
    keys: 1,
    reply: oneOf('stored'),
    lua: storeFinished + `
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[2])
listCreated(KEYS[1], ARGV[5])
storeFinished(KEYS[1], ARGV[5], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
return 'stored'`
  },
  /** KEYS job; ARGV now: 'started' if this chunk started the job, 'running' if it was running already, 'inactive' if it has ended. */
  jobChunkStart: {
    keys: 1,
    reply: oneOf('started', 'running', 'inactive'),
    lua: `
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'startedAt', ARGV[1])
  return 'started'
end
if status == 'running' then return 'running' end
return 'inactive'`
  },
  /**
   * KEYS job, done, partials; ARGV index, record, units, id. Records a chunk exactly once (its bit in
   * the bitmap): its partial result's record appended as given (job-partials.ts; no arithmetic here:
   * the task's merge is TypeScript's, redis-job-endings.ts), its units in the progress, and tells the
   * replicas' event streams (in the script: one round trip a chunk less).
   */
  jobChunkDone: {
    keys: 3,
    reply: oneOf('inactive', 'recorded-before', 'recorded', 'last'),
    lua: `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 'inactive' end
if redis.call('SETBIT', KEYS[2], ARGV[1], 1) == 1 then return 'recorded-before' end
redis.call('APPEND', KEYS[3], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'done', ARGV[3])
local recorded = redis.call('HINCRBY', KEYS[1], 'chunksDone', 1)
if recorded < tonumber(redis.call('HGET', KEYS[1], 'chunks')) then
  redis.call('PUBLISH', '${CHANGED}', ARGV[4] .. ' progress')
  return 'recorded'
end
return 'last'`
  },
  /**
   * KEYS job, done, active, partials; ARGV now, ttl, id, maxPerClient, maxAll, result: a running job
   * whose every chunk is recorded succeeds with the merged result; 0 if it had ended (another replica
   * merged first, or it was cancelled), so merging twice is harmless: 'succeeded' or 'not-running'.
   */
  jobSucceed: {
    keys: 4,
    reply: oneOf('succeeded', 'not-running'),
    lua: endJob + `
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 'not-running' end
if redis.call('HGET', KEYS[1], 'chunksDone') ~= redis.call('HGET', KEYS[1], 'chunks') then return 'not-running' end
endJob('succeeded', ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], 'result', ARGV[6])
return 'succeeded'`
  },
  /** KEYS job, done, active, partials; ARGV status, now, ttl, id, maxPerClient, maxAll, field, value...: 'ended' an active job, or it had 'ended-before'. */
  jobFinish: {
    keys: 4,
    reply: oneOf('ended', 'ended-before'),
    lua: endJob + `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return 'ended-before' end
endJob(unpack(ARGV))
return 'ended'`
  },
  /** KEYS job, done, active, partials; ARGV ttl, id: ends an active job while Redis refuses writes (redis-full-job.ts). */
  jobEndWhenFull: {
    keys: 4,
    reply: oneOf('ended', 'ended-before'),
    lua: endWhenFullLua
  }
} satisfies Record<string, Script<string>>

/** What recording a chunk did: the job had ended; the chunk had been recorded (a retry); recorded now; recorded now, and it was the last. */
export type ChunkRecorded = ReturnType<typeof scripts.jobChunkDone.reply>

type Argument = string | number | Buffer
/** Each script, run with its keys and arguments, resolving to its checked reply. */
export type JobScripts = { [Name in keyof typeof scripts]: (keys: string[], args: Argument[]) => Promise<ReturnType<(typeof scripts)[Name]['reply']>> }

/** Loads the scripts into a connection (ioredis runs them by SHA, sending the source only once). */
export function defineScripts (redis: Redis): JobScripts {
  const defined: Record<string, (keys: string[], args: Argument[]) => Promise<string>> = {}
  for (const [name, { keys, lua, reply }] of Object.entries(scripts)) {
    redis.defineCommand(name, { numberOfKeys: keys, lua })
    const command = (redis as unknown as Record<string, (...args: Argument[]) => Promise<unknown>>)[name]!.bind(redis)
    defined[name] = async (keyNames, args) => {
      if (keyNames.length !== keys) throw new Error(`script ${name} takes ${keys} keys, not ${keyNames.length}`)
      return reply(await command(...keyNames, ...args))
    }
  }
  return defined as JobScripts
}
