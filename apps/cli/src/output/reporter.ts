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

/** Uncoloured formatters, for the messages of JSON lines. */
const noColor = palette(false);
/** A result line as a JSON line's message: without the dot leader. */
const jsonMessage = (line: string) => line.replace(/ \.{3,} /, ' ');

/**
 * Where every result of a run goes: printed (text) or logged (json), counted in the tally,
 * failures kept for the end. Shared by the source and build trackers.
 */
interface ResultOutput {
  readonly terminal: Terminal;
  readonly text: boolean;
  readonly tally: ResultTally;
  readonly failures: FailureInput[];
  sources: { index: number; total: number };
  /** Prints the text line, or logs the JSON line (message without colour) with `fields`. */
  result(kind: string, word: Word, line: (colors: Terminal['colors']) => string, fields: object): void;
  failure(f: FailureInput): void;
}

function resultOutput(terminal: Terminal, logger: RunLogger): ResultOutput {
  const text = terminal.mode.format === 'text';
  const out: ResultOutput = {
    terminal,
    text,
    tally: emptyTally(),
    failures: [],
    sources: { index: 0, total: 0 },
    result(kind, word, line, fields) {
      out.tally.ran[kind] = (out.tally.ran[kind] ?? 0) + 1;
      out.tally[word] += 1;
      if (text) terminal.print(line(terminal.colors));
      else logger.info(fields, jsonMessage(line(noColor)));
    },
    failure(f) {
      out.failures.push(f);
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
    },
  };
  return out;
}

/** One ingest's or load's bar while it moves data, then its result line. */
function sourceTracker(
  out: ResultOutput,
  step: 'ingest' | 'load',
  source: string,
  partition: string,
): SourceTracker {
  const started = performance.now();
  const id = `${step}:${source}:${partition}`;
  let lastBytes = 0;
  let reported = false;
  const finish = (o: Pick<SourceLineInput, 'status' | 'rows' | 'rejected' | 'bytes' | 'table'>) => {
    // One line per step: a failure after its result (recording it) is the job's to report.
    if (reported) return false;
    reported = true;
    out.terminal.setBar(id, undefined);
    out.sources.index += 1;
    const input: SourceLineInput = {
      index: out.sources.index,
      total: Math.max(out.sources.total, out.sources.index),
      step,
      source,
      partition,
      durationMs: performance.now() - started,
      ...o,
    };
    const fields = {
      step,
      source,
      partition,
      status: o.status,
      rows: o.rows,
      rejected: o.rejected,
      bytes: o.bytes,
      duration_ms: Math.round(input.durationMs),
    };
    out.result(step, sourceWord(o), (colors) => sourceLine(input, colors), fields);
    return true;
  };
  return {
    progress(p) {
      lastBytes = p.bytes;
      if (!out.terminal.mode.live) return;
      out.terminal.setBar(id, transferBar(`${step} ${source} ${partition}`, p, performance.now() - started));
    },
    finished(o) {
      finish({ ...o, bytes: o.bytes ?? (lastBytes > 0 ? lastBytes : undefined) });
    },
    failed(error) {
      if (!finish({ status: 'error' })) return;
      const message = error instanceof Error ? error.message : String(error);
      out.failure({ kind: step, level: 'error', name: `${source} ${partition}`, message });
    },
  };
}

/** A build's bar (nodes done, nodes running) and a result line per node. */
function buildTracker(out: ResultOutput, label: string, total: number): BuildTracker {
  let done = 0;
  const running = new Set<string>();
  const draw = () => out.terminal.setBar('build', buildBar(label, done, total, [...running]));
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
      const fields = {
        node: report.uniqueId,
        resource_type: input.resourceType,
        status: input.status,
        rows: input.rows,
        failures: input.failures,
        duration_ms: Math.round(input.durationMs),
      };
      out.result(report.kind, nodeWord(input.status), (colors) => nodeLine(input, colors), fields);
      if (report.failure) out.failure(report.failure);
      draw();
    },
    finished() {
      out.terminal.setBar('build', undefined);
    },
  };
}

/**
 * The reporter of one recorded run over `terminal`: text mode prints a line per node and per
 * source step (with live bars while data moves and a build runs), and at the end the failures
 * as dbt shows them and the `Done.` counts; json mode logs the same facts as JSON lines (`info`
 * per result, `warn` / `error` per failure with its first sample rows).
 *
 * @example
 * const reporter = createReporter(terminal, logger);
 * const t = reporter.sourceStarted('ingest', 'orders', '2026-05-01');
 * t.finished({ status: 'ok', rows: 100, bytes: 1500 });
 */
export function createReporter(terminal: Terminal, logger: RunLogger): RunReporter {
  const out = resultOutput(terminal, logger);
  let finished = false;
  return {
    planSources(total) {
      out.sources.total = total;
    },
    sourceStarted: (step, source, partition) => sourceTracker(out, step, source, partition),
    buildStarted: (label, total) => buildTracker(out, label, total),
    finish(durationMs) {
      if (finished) return;
      finished = true;
      terminal.stop();
      const { tally } = out;
      const total = tally.pass + tally.warn + tally.error + tally.skip;
      if (total === 0) return;
      const summary = endSummary(tally, durationMs, terminal.colors);
      if (!out.text) {
        logger.info(
          { pass: tally.pass, warn: tally.warn, error: tally.error, skip: tally.skip, total },
          summary.done,
        );
        return;
      }
      const blocks = out.failures.flatMap((f) => ['', ...failureBlock(f, terminal.colors)]);
      terminal.print(['', ...summary.head, ...blocks, '', summary.done].join('\n'));
    },
  };
}
