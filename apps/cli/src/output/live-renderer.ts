import { performance } from 'node:perf_hooks';

/** A terminal stream the renderer draws on (process.stderr, or a fake in tests). */
export interface LiveStream {
  write(chunk: string): unknown;
  /** Terminal width; lines are cut to it so each bar is one row. Default 80. */
  columns?: number;
}

// ANSI: cursor up N rows, then erase from the cursor to the end of the screen.
const up = (rows: number) => `\u001b[${rows}A`;
const ERASE_DOWN = '\u001b[J';
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI colour codes is the point
const ANSI = /\u001b\[[0-9;]*m/g;

/** Cuts a line to `width` visible characters (bars are plain text; colour codes are dropped when cut). */
export function fitWidth(line: string, width: number): string {
  const plain = line.replace(ANSI, '');
  if (plain.length <= width) return line;
  return `${plain.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * A block of live bars at the bottom of a terminal with log lines printed ABOVE it: each log
 * write erases the bars, prints the text, and draws the bars again, in one write. Bar updates
 * are redrawn at most every `throttleMs` (a pending redraw runs on an unref'd timer, so it never
 * keeps the process alive). Plain text and cursor moves only: no cursor hiding to restore, no
 * signal handlers.
 *
 * @example
 * const live = new LiveRenderer(process.stderr);
 * live.setBar('orders', 'ingest orders  45% 4.9/11.0 MB');
 * live.log('1 of 8 OK ingested customers ... [30 rows in 0.1s]\n');
 * live.stop();
 */
export class LiveRenderer {
  private readonly bars = new Map<string, string>();
  private drawn = 0;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly throttleMs: number;
  private readonly now: () => number;

  constructor(
    private readonly stream: LiveStream,
    options: { throttleMs?: number; now?: () => number } = {},
  ) {
    this.throttleMs = options.throttleMs ?? 100;
    this.now = options.now ?? (() => performance.now());
  }

  /** Prints `text` above the bars (a trailing newline is added when missing). */
  log(text: string): void {
    const line = text.endsWith('\n') ? text : `${text}\n`;
    if (this.stopped || this.drawn === 0) {
      this.stream.write(line);
      if (!this.stopped && this.bars.size > 0) this.redraw();
      return;
    }
    this.stream.write(this.erase() + line + this.render());
  }

  /** Sets (or with `undefined` removes) one bar; redrawn now or at the next throttle tick. */
  setBar(id: string, line: string | undefined): void {
    if (this.stopped) return;
    if (line === undefined) this.bars.delete(id);
    else this.bars.set(id, line);
    const wait = this.throttleMs - (this.now() - this.lastDraw);
    // A removed bar goes at once: its step's result line is usually printed right after.
    if (wait <= 0 || line === undefined) {
      this.redraw();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.redraw();
    }, wait).unref();
  }

  /** Erases the bars; later logs are written straight through. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.drawn > 0) this.stream.write(this.erase());
    this.bars.clear();
    this.stopped = true;
  }

  private redraw(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.erase() + this.render();
    if (text) this.stream.write(text);
  }

  private erase(): string {
    const rows = this.drawn;
    this.drawn = 0;
    return rows > 0 ? `${up(rows)}\r${ERASE_DOWN}` : '';
  }

  private render(): string {
    this.lastDraw = this.now();
    // A pty without a size reports 0 columns.
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    const lines = [...this.bars.values()].map((b) => `${fitWidth(b, width)}\n`);
    this.drawn = lines.length;
    return lines.join('');
  }
}
