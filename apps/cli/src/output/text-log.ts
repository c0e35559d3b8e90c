import type { Palette } from './colors.js';

/** Fields every line has, or that the text line shows in its own place. */
const HIDDEN = new Set(['level', 'time', 'run_id', 'command', 'msg', 'pid', 'hostname', 'v']);

const LEVEL_COLOR: Record<string, keyof Palette> = {
  warn: 'yellow',
  error: 'red',
  fatal: 'red',
  info: 'green',
  debug: 'dim',
  trace: 'dim',
};

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * One log entry (a run-logger JSON line, parsed) as one text line:
 * `08:01:02 WARN  message  key=value …`. An error shows its code and message; its stack
 * (present only at debug) goes on the lines below. Pure.
 *
 * @example
 * textLogLine({ level: 'warn', time: '2026-05-01T08:01:02.000Z', msg: 'slow', table: 't' }, palette(false));
 * // '08:01:02 WARN  slow  table=t' (local time)
 */
export function textLogLine(entry: Record<string, unknown>, colors: Palette): string {
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? new Date(entry.time) : new Date();
  const clock = Number.isNaN(time.getTime()) ? '' : `${time.toTimeString().slice(0, 8)} `;
  const paint = colors[LEVEL_COLOR[level] ?? 'dim'];
  const fields: string[] = [];
  let stack = '';
  for (const [k, v] of Object.entries(entry)) {
    if (HIDDEN.has(k)) continue;
    if (k === 'err' && v && typeof v === 'object') {
      const err = v as { message?: unknown; code?: unknown; stack?: unknown };
      fields.push(`err=${value(`${err.code ? `${String(err.code)}: ` : ''}${String(err.message ?? '')}`)}`);
      if (typeof err.stack === 'string' && err.stack) stack = `\n${colors.dim(err.stack)}`;
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const tail = fields.length > 0 ? `  ${colors.dim(fields.join(' '))}` : '';
  return `${colors.dim(clock)}${paint(level.toUpperCase().padEnd(5))} ${String(entry.msg ?? '')}${tail}${stack}`;
}
