import { performance } from 'node:perf_hooks';
import type { RunLogger } from '@dataflow/runlog';
import { buildBar, transferBar } from './bar-line.js';
import { palette } from './colors.js';
import { emptyTally, endSummary, type ResultTally } from './end-summary.js';
import { type FailureInput, failureBlock, SAMPLE_ROWS } from './failure-block.js';
import { type NodeLineInput, nodeLine } from './node-line.js';
import { type SourceLineInput, sourceLine } from './source-line.js';
import type { Terminal } from './terminal.js';

/** A node's result as the reporter takes it: its line (without its place) and its failure. */
export interface NodeReport {
  line: Omit<NodeLineInput, 'index' | 'total'>;
  uniqueId: string;
  failure?: FailureInput | undefined;
  /** What it counts as in `Finished running …` (`table model`, `data test`). */
  kind: string;
}

/** The progress and outcome of one ingest or load. */
export interface SourceTracker {
  progress(p: { rows: number; bytes: number; totalBytes?: number | undefined }): void;
  finished(out: Pick<SourceLineInput, 'status' | 'rows' | 'rejected' | 'bytes' | 'table'>): void;
  failed(error: unknown): void;
}

/** The progress and results of one build. */
export interface BuildTracker {
  nodeStarted(name: string): void;
  nodeFinished(report: NodeReport): void;
  finished(): void;
}

/** What a run reports as it goes, in text (dbt-style lines, bars) or as JSON log lines. */
export interface RunReporter {
  /** How many ingests and loads this run plans (the `of N` of their lines). */
  planSources(total: number): void;
  sourceStarted(step: 'ingest' | 'load', source: string, partition: string): SourceTracker;
  buildStarted(label: string, total: number): BuildTracker;
  /** Stops the bars; in text mode prints the failures and dbt's `Done.` line. */
  finish(durationMs: number): void;
}

type Word = 'pass' | 'warn' | 'error' | 'skip';
const nodeWord = (s: NodeLineInput['status']): Word =>
  s === 'success' || s === 'pass' ? 'pass' : s === 'warn' ? 'warn' : s === 'skipped' ? 'skip' : 'error';
const sourceWord = (out: { status: SourceLineInput['status']; rejected?: number | undefined }): Word =>
  out.status === 'skip' ? 'skip' : out.status === 'error' ? 'error' : out.rejected ? 'warn' : 'pass';

/**
 * The reporter of one recorded run over `terminal`: text mode prints a line per node and per
 * source step (live bars for transfers and the build above nothing else), and at the end the
 * failures as dbt shows them and the `Done.` counts; json mode logs the same facts as JSON lines
 * (`info` per result, `warn` / `error` per failure with its first sample rows).
 *
 * @example
 * const reporter = createReporter(terminal, logger);
 * const t = reporter.sourceStarted('ingest', 'orders', '2026-05-01');
 * t.finished({ status: 'ok', rows: 100, bytes: 1500 });
 */
export function createReporter(terminal: Terminal, logger: RunLogger): RunReporter {
  const text = terminal.mode.format === 'text';
  const { colors } = terminal;
  const tally: ResultTally = emptyTally();
  const failures: FailureInput[] = [];
  let sourceTotal = 0;
  let sourceIndex = 0;
  let finished = false;
  const count = (kind: string, word: Word) => {
    tally.ran[kind] = (tally.ran[kind] ?? 0) + 1;
    tally[word] += 1;
  };
  const fail = (f: FailureInput) => {
    failures.push(f);
    if (text) return;
    const sample = f.sample?.slice(0, SAMPLE_ROWS);
    const fields = {
      kind: f.kind,
      name: f.name,
      file: f.file,
      failures: f.failures,
      severity: f.severity,
      compiled_path: f.compiledPath,
      ...(sample && sample.length > 0 ? { sample } : {}),
    };
    const msg = `${f.kind} ${f.name}: ${(f.message ?? '').split('\n')[0]}`;
    if (f.level === 'warn') logger.warn(fields, msg);
    else logger.error(fields, msg);
  };
  return {
    planSources(total) {
      sourceTotal = total;
    },
    sourceStarted(step, source, partition) {
      const started = performance.now();
      const id = `${step}:${source}:${partition}`;
      const label = `${step} ${source} ${partition}`;
      let last = { rows: 0, bytes: 0 };
      const line = (out: Pick<SourceLineInput, 'status' | 'rows' | 'rejected' | 'bytes' | 'table'>) => {
        terminal.setBar(id, undefined);
        sourceIndex += 1;
        const input: SourceLineInput = {
          index: sourceIndex,
          total: Math.max(sourceTotal, sourceIndex),
          step,
          source,
          partition,
          durationMs: performance.now() - started,
          ...out,
        };
        count(step, sourceWord(out));
        if (text) terminal.print(sourceLine(input, colors));
        else {
          const fields = {
            step,
            source,
            partition,
            status: out.status,
            rows: out.rows,
            rejected: out.rejected,
          };
          logger.info(
            { ...fields, bytes: out.bytes, duration_ms: Math.round(input.durationMs) },
            jsonMessage(sourceLine(input, noColor)),
          );
        }
      };
      return {
        progress(p) {
          last = p;
          terminal.setBar(id, transferBar(label, p, performance.now() - started));
        },
        finished: (out) => line({ ...out, bytes: out.bytes ?? (last.bytes > 0 ? last.bytes : undefined) }),
        failed(error) {
          line({ status: 'error' });
          const message = error instanceof Error ? error.message : String(error);
          fail({ kind: step, level: 'error', name: `${source} ${partition}`, message });
        },
      };
    },
    buildStarted(label, total) {
      let done = 0;
      const running = new Set<string>();
      const draw = () => terminal.setBar('build', buildBar(label, done, total, [...running]));
      draw();
      return {
        nodeStarted(name) {
          running.add(name);
          draw();
        },
        nodeFinished(report) {
          running.delete(report.line.name);
          done += 1;
          const input: NodeLineInput = { ...report.line, index: done, total: Math.max(total, done) };
          const word = nodeWord(input.status);
          count(report.kind, word);
          if (text) terminal.print(nodeLine(input, colors));
          else {
            logger.info(
              {
                node: report.uniqueId,
                resource_type: input.resourceType,
                status: input.status,
                rows: input.rows,
                failures: input.failures,
                duration_ms: Math.round(input.durationMs),
              },
              jsonMessage(nodeLine(input, noColor)),
            );
          }
          if (report.failure) fail(report.failure);
          draw();
        },
        finished() {
          terminal.setBar('build', undefined);
        },
      };
    },
    finish(durationMs) {
      if (finished) return;
      finished = true;
      terminal.stop();
      const total = tally.pass + tally.warn + tally.error + tally.skip;
      if (total === 0) return;
      const summary = endSummary(tally, durationMs, colors);
      if (!text) {
        const { pass, warn, error, skip } = tally;
        logger.info({ pass, warn, error, skip, total }, summary.done);
        return;
      }
      const blocks = failures.flatMap((f) => ['', ...failureBlock(f, colors)]);
      terminal.print(['', ...summary.head, ...blocks, '', summary.done].join('\n'));
    },
  };
}

/** A result line as a JSON line's message: without the dot leader. */
const jsonMessage = (line: string) => line.replace(/ \.{3,} /, ' ');

/** Uncoloured formatters, for the messages of JSON lines. */
const noColor: Terminal['colors'] = palette(false);
