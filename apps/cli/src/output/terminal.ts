import type { Redactor } from '@dataflow/runlog';
import { type Palette, palette } from './colors.js';
import { LiveRenderer, type LiveStream } from './live-renderer.js';
import { tidyLogErrors } from './log-errors.js';
import type { OutputMode } from './mode.js';
import { textLogLine } from './text-log.js';

/** The stream a terminal writes on (process.stderr, or a collector in tests). */
export type TerminalStream = LiveStream & {
  write(chunk: string, callback?: () => void): unknown;
  writableNeedDrain?: boolean;
  once?(event: string, listener: () => void): unknown;
  end?: unknown;
};

/** Where a command's human output goes: lines, live bars, and the logger's destination. */
export interface Terminal {
  readonly mode: OutputMode;
  readonly colors: Palette;
  /** Prints lines (redacted) above the bars, or straight to stderr. */
  print(text: string): void;
  /** Sets or (`undefined`) removes a live bar; a no-op unless the mode is live. */
  setBar(id: string, line: string | undefined): void;
  /**
   * The run logger's destination: JSON lines (errors tidied) or text lines above the bars. It
   * passes `write('', cb)`, `writableNeedDrain` and `once` through, so the logger's flush still
   * waits for stderr.
   */
  readonly logSink: TerminalStream;
  /** Erases the bars; later output is written straight through. Idempotent. */
  stop(): void;
}

/** One logger chunk (JSON lines) as the mode writes it. */
function logText(chunk: string, mode: OutputMode, colors: Palette): string {
  let out = '';
  for (const line of chunk.split('\n')) {
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out += `${line}\n`;
      continue;
    }
    const tidy = tidyLogErrors(entry, mode.stacks);
    out += `${mode.format === 'json' ? JSON.stringify(tidy) : textLogLine(tidy, colors)}\n`;
  }
  return out;
}

/**
 * The terminal of one invocation on `stderr`: a {@link LiveRenderer} when the mode is live,
 * plain writes otherwise. The logger's JSON lines stay JSON lines in json mode (errors without
 * stacks below debug) and become text lines in text mode.
 *
 * @example
 * const terminal = createTerminal(io.stderr, mode, redactor);
 * createLogger({ runId, destination: terminal.logSink });
 */
export function createTerminal(
  stderr: TerminalStream,
  mode: OutputMode,
  redactor: Redactor,
  options: { throttleMs?: number } = {},
): Terminal {
  const colors = palette(mode.color);
  const live = mode.live ? new LiveRenderer(stderr, options) : undefined;
  const write = (text: string) => (live ? live.log(text) : stderr.write(text));
  const logSink: TerminalStream = {
    write(chunk: string, callback?: () => void) {
      if (chunk === '') return stderr.write('', callback);
      const text = logText(chunk, mode, colors);
      if (text) write(text);
      callback?.();
      return true;
    },
    get writableNeedDrain() {
      return stderr.writableNeedDrain;
    },
    ...(stderr.once ? { once: (event: string, listener: () => void) => stderr.once?.(event, listener) } : {}),
    ...(stderr.end ? { end: stderr.end } : {}),
  };
  return {
    mode,
    colors,
    print: (text) => write(`${redactor.redact(text).replace(/\n?$/, '\n')}`),
    setBar: (id, line) => live?.setBar(id, line),
    logSink,
    stop: () => live?.stop(),
  };
}
