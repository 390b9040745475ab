import type { Redis } from 'ioredis';

/** A Lua script called with its keys first, then its arguments. */
export type ScriptCommand = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

/**
 * A Lua script as an ioredis command: EVALSHA, with one EVAL when Redis does
 * not know the script yet. EVAL on every call sent the whole script text with
 * each call (for the ARM budget, two per ARM request: its largest cost in a profile).
 */
export function scriptCommand(redis: Redis, name: string, lua: string, numberOfKeys = 1): ScriptCommand {
  redis.defineCommand(name, { numberOfKeys, lua });
  return (redis as unknown as Record<string, ScriptCommand>)[name]!.bind(redis);
}
