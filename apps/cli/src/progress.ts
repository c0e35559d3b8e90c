import cliProgress from 'cli-progress';
import type { CliIo } from './io.js';

/** Step progress on a terminal; a no-op otherwise (progress never goes to logs). */
export interface Progress {
  setTotal(total: number): void;
  step(label: string): void;
  stop(): void;
}

const noop: Progress = { setTotal: () => undefined, step: () => undefined, stop: () => undefined };

/**
 * A single bar on stderr when stderr is a TTY: `[████░░] 3/7 load orders 2026-05-01`.
 *
 * @example
 * const p = createProgress(io); p.setTotal(3); p.step('ingest orders'); p.stop();
 */
export function createProgress(io: CliIo): Progress {
  if (!io.stderrIsTTY) return noop;
  const bar = new cliProgress.SingleBar(
    {
      format: '[{bar}] {value}/{total} {label}',
      stream: io.stderr as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let done = 0;
  return {
    setTotal(total) {
      if (total <= 0) return;
      bar.start(total, 0, { label: '' });
      started = true;
    },
    step(label) {
      if (!started) return;
      bar.update(done, { label });
      done += 1;
    },
    stop() {
      if (started) {
        bar.update(done, { label: 'done' });
        bar.stop();
      }
    },
  };
}
