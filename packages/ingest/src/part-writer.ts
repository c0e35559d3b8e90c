import { Readable } from 'node:stream';
import type { ManifestFile } from './manifest.js';

/** One or more complete output records, as produced by a source (CSV scanner, csv-parse, API pages). */
export interface Unit {
  /** Record bytes or text, each record LF-terminated. */
  data: string | Buffer;
  rows: number;
  /** Uncompressed size, for part splitting (string length is close enough for text). */
  size: number;
}

/** What the part writer stores each part through (a {@link PartitionAttempt}). */
export interface PartSink {
  /** Stores one part body; `rows()` is read once the body has ended. */
  writePart(body: Readable, rows: () => number): Promise<ManifestFile>;
}

/** Options of {@link writeParts}. */
export interface WritePartsOptions {
  /** Written at the top of every part (the CSV header line, or `''`). */
  header: string;
  /** Close a part once its uncompressed size reaches about this many bytes. */
  partBytes: number;
  /** Called for each unit taken into a part (progress counting). */
  onUnit?: (rows: number, size: number) => void;
}

const FLUSH_CHARS = 256 * 1024;

/**
 * The one part-splitting loop of both sources: pulls units from `units` and streams them into
 * parts of about `partBytes`, splitting only between units, each part starting with `header`.
 * Bounded like lib-storage's `Upload`: the store's upload pulls the part body, so the source is
 * read no faster than bytes are stored, and at most two parts are in flight (part N+1 is produced
 * while part N's upload completes). The first failure wins: a failed upload stops the source
 * through `onFailure` (which must make a pending `units.next()` reject) and is what is thrown.
 * The source is closed (`return()`) on every path.
 *
 * @example
 * await writeParts(attempt, unitsOf(records), { header: 'id,name\n', partBytes: 64 << 20 }, stop);
 */
export async function writeParts(
  sink: PartSink,
  units: AsyncIterator<Unit>,
  options: WritePartsOptions,
  onFailure: (error: unknown) => void = () => undefined,
): Promise<number> {
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    onFailure(error);
  };
  const pending: Array<Promise<ManifestFile>> = [];
  const source = new UnitSource(units);
  let parts = 0;
  try {
    // At least one part, so an input with a header and no rows still lands its header.
    do {
      let rows = 0;
      const body = partBody(source, options, (n) => {
        rows = n;
      });
      const produced = body.ended;
      const stored = sink.writePart(textStream(body.chunks), () => rows);
      stored.catch(fail);
      pending.push(stored);
      parts++;
      await Promise.race([produced, stored]);
      if (pending.length >= 2) await pending.shift();
    } while (!(await source.done()));
    while (pending.length > 0) await pending.shift();
    return parts;
  } catch (error) {
    failure ??= { error };
    await Promise.allSettled(pending);
    throw failure.error;
  } finally {
    await units.return?.().catch(() => undefined);
  }
}

/** A unit iterator with one unit of look-ahead (the unit that did not fit the previous part). */
class UnitSource {
  private held: Unit | undefined;
  private ended = false;

  constructor(private readonly units: AsyncIterator<Unit>) {}

  async next(): Promise<Unit | undefined> {
    if (this.held !== undefined) {
      const unit = this.held;
      this.held = undefined;
      return unit;
    }
    if (this.ended) return undefined;
    const r = await this.units.next();
    if (r.done) this.ended = true;
    return r.done ? undefined : r.value;
  }

  pushBack(unit: Unit): void {
    this.held = unit;
  }

  /** True when no unit is left (reads one ahead when needed). */
  async done(): Promise<boolean> {
    if (this.held !== undefined) return false;
    const unit = await this.next();
    if (unit === undefined) return true;
    this.held = unit;
    return false;
  }
}

/** The chunks of one part, and a promise settled when the part's body has been fully produced. */
function partBody(
  source: UnitSource,
  { header, partBytes, onUnit }: WritePartsOptions,
  setRows: (rows: number) => void,
): { chunks: AsyncGenerator<string | Buffer>; ended: Promise<void> } {
  let produced!: () => void;
  const ended = new Promise<void>((resolve) => {
    produced = resolve;
  });
  const chunks = async function* (): AsyncGenerator<string | Buffer> {
    try {
      let rows = 0;
      let size = header.length;
      let text = header;
      for (let unit = await source.next(); unit !== undefined; unit = await source.next()) {
        if (rows > 0 && size + unit.size > partBytes) {
          source.pushBack(unit);
          break;
        }
        size += unit.size;
        rows += unit.rows;
        setRows(rows);
        onUnit?.(unit.rows, unit.size);
        if (typeof unit.data === 'string') {
          text += unit.data;
          if (text.length < FLUSH_CHARS) continue;
          yield text;
        } else {
          if (text.length > 0) yield text;
          yield unit.data;
        }
        text = '';
      }
      if (text.length > 0) yield text;
    } finally {
      produced();
    }
  };
  return { chunks: chunks(), ended };
}

/** Wraps an async generator of text/byte chunks as a byte stream with a large buffer. */
export function textStream(chunks: AsyncIterable<string | Buffer>): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    })(),
    { objectMode: false, highWaterMark: 1 << 20 },
  );
}
