import { CliError } from '../errors.js';
import { colorEnabled } from './colors.js';

/** How a command writes what it does: `text` for people, `json` lines for log collectors. */
export type LogFormat = 'text' | 'json';

/** What an invocation's output looks like, decided once from flags, environment and terminal. */
export interface OutputMode {
  format: LogFormat;
  /** ANSI colours (text only). */
  color: boolean;
  /** Live bars with log lines above them (text on a terminal only). */
  live: boolean;
  /** JS stack traces in logs (only at `--log-level debug` / `trace`). */
  stacks: boolean;
}

const FORMATS: readonly LogFormat[] = ['text', 'json'];

/**
 * The log format: `--log-format` (or `DATAFLOW_LOG_FORMAT`), by default `text` when stderr is a
 * terminal and `json` otherwise. An unknown format is a usage error (exit 2).
 *
 * @example
 * resolveLogFormat(undefined, {}, true); // 'text'
 */
export function resolveLogFormat(
  flag: unknown,
  env: Record<string, string | undefined>,
  stderrIsTTY: boolean,
): LogFormat {
  const requested = flag ?? env.DATAFLOW_LOG_FORMAT;
  if (requested !== undefined && !FORMATS.includes(requested as LogFormat)) {
    throw new CliError(
      'USAGE',
      `--log-format: expected one of ${FORMATS.join('|')}, got ${JSON.stringify(requested)}`,
    );
  }
  return (requested as LogFormat | undefined) ?? (stderrIsTTY ? 'text' : 'json');
}

/**
 * Resolves the output mode: the format ({@link resolveLogFormat}); colour by NO_COLOR /
 * FORCE_COLOR / the terminal; bars only for text on a terminal; stacks only at debug.
 *
 * @example
 * resolveOutputMode({ env: {}, stderrIsTTY: false, level: 'info' });
 * // { format: 'json', color: false, live: false, stacks: false }
 */
export function resolveOutputMode(input: {
  flag?: unknown;
  env: Record<string, string | undefined>;
  stderrIsTTY: boolean;
  level: string;
}): OutputMode {
  const format = resolveLogFormat(input.flag, input.env, input.stderrIsTTY);
  return {
    format,
    color: format === 'text' && colorEnabled(input.env, input.stderrIsTTY),
    live: format === 'text' && input.stderrIsTTY,
    stacks: input.level === 'debug' || input.level === 'trace',
  };
}
