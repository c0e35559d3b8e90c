import { snakeKeys } from '../snake-case.js';

/** Keys of a log line that hold an error. */
const ERROR_KEYS = ['err', 'error'];

/**
 * A log entry with its errors tidied: below debug an error keeps its type, message and plain
 * fields (code, sqlstate, line, …) and loses its stack and object-valued context (audit
 * results, causes), so no JS stack trace reaches the logs; every key is snake_case. At debug
 * (`stacks`) everything is kept. Pure; the entry is not modified.
 *
 * @example
 * tidyLogErrors({ msg: 'x', err: { type: 'E', message: 'm', stack: 'E: m\n at …', audits: [] } }, false);
 * // { msg: 'x', err: { type: 'E', message: 'm' } }
 */
export function tidyLogErrors(entry: Record<string, unknown>, stacks: boolean): Record<string, unknown> {
  if (!ERROR_KEYS.some((k) => isObject(entry[k]))) return entry;
  const out = { ...entry };
  for (const key of ERROR_KEYS) {
    const err = out[key];
    if (!isObject(err)) continue;
    const kept = stacks
      ? err
      : Object.fromEntries(
          Object.entries(err).filter(([k, v]) => k !== 'stack' && !isObject(v) && !Array.isArray(v)),
        );
    out[key] = snakeKeys(kept);
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
