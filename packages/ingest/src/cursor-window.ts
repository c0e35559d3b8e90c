import { createHash } from 'node:crypto';
import {
  compareCursor,
  compareParsed,
  cursorValueOf,
  maxCursor,
  NOT_A_CURSOR,
  type ParsedCursor,
  parseCursor,
  subtractLag,
} from './cursor-value.js';
import { IngestError, type IngestErrorContext } from './errors.js';
import type { CursorRange, CursorState, CursorValue } from './manifest.js';

/** What every incremental source says about its cursor (API and CSV alike). */
export interface CursorWindowOptions {
  /** Where the first run starts (sent as the request parameter; lower rows are dropped). */
  initialValue: CursorValue;
  /** Exclusive end: rows at or past it are dropped (a backfill window). */
  endValue?: CursorValue;
  /** Re-read this much before the last value: seconds for ISO timestamps, units for numbers. */
  lag?: number;
  /** A row without a cursor value: `raise` (default) fails the run, `include` keeps it, `exclude` drops it. */
  onCursorValueMissing?: 'raise' | 'include' | 'exclude';
  /** The order the source returns rows in: paging stops once no later row can be in the window. */
  rowOrder?: 'asc' | 'desc';
  /** Paths (API) or columns (CSV) of the key that de-duplicates rows at the window boundary. */
  primaryKey?: string[];
}

/** Where a row came from, for the error of a missing or invalid cursor value. */
export interface RowPlace {
  /** `record 3 of page 2` / `line 14`. */
  text: string;
  context: IngestErrorContext;
  /** The error code of a missing or invalid value: BAD_RESPONSE (API, default) or BAD_VALUE (CSV). */
  code?: 'BAD_RESPONSE' | 'BAD_VALUE';
}

/**
 * The start of the next window: the state's last value moved back by `lag`, never below
 * `initialValue`; `initialValue` when there is no state (dlt's rule).
 *
 * @example
 * windowStart({ initialValue: 0, lag: 5 }, { lastValue: 100, boundaryKeys: [] }); // 95
 */
export function windowStart(o: CursorWindowOptions, state: CursorState | undefined): CursorValue {
  if (state === undefined) return o.initialValue;
  return maxCursor(o.initialValue, subtractLag(state.lastValue, o.lag ?? 0));
}

/**
 * The boundary key of a row: the JSON text of its primary-key values, or, without a primary
 * key, a sha256 of the whole row's JSON (kept short, since state stores one per boundary row).
 *
 * @example
 * boundaryKey([42, 'eu'], { id: 42 }); // '[42,"eu"]'
 */
export function boundaryKey(keyValues: unknown[] | undefined, row: unknown): string {
  if (keyValues !== undefined) return JSON.stringify(keyValues.map((v) => v ?? null));
  return `sha256:${createHash('sha256').update(JSON.stringify(row)).digest('base64url')}`;
}

/**
 * The cursor filter of one incremental run, fed every row in source order. Keeps rows in
 * `[start, endValue)`, drops rows at the previous run's last value whose key the state lists
 * (boundary duplicates), tracks the highest value kept and the keys at it, and says when paging
 * can stop early (`rowOrder`). Pure; one instance per run.
 *
 * @example
 * const w = new CursorWindow('updated_at', { initialValue: '2024-01-01' }, state);
 * const keep = w.accept(record.updated_at, () => boundaryKey([record.id], record), place);
 * w.range(); // { path, from, to, boundaryKeys, duplicatesDropped }
 */
export class CursorWindow {
  readonly from: CursorValue;
  /** True once `rowOrder` says no later row can fall in the window. */
  exhausted = false;
  private to: ParsedCursor | undefined;
  private keysAtTo = new Set<string>();
  // Bounds parsed once: a record's value is parsed once and compared against these.
  private readonly start: ParsedCursor;
  private readonly end: ParsedCursor | undefined;
  private readonly last: ParsedCursor | undefined;
  private readonly previous: Set<string>;
  private duplicates = 0;
  private outside = 0;

  constructor(
    readonly path: string,
    private readonly o: CursorWindowOptions,
    private readonly state?: CursorState,
  ) {
    this.from = windowStart(o, state);
    this.start = parseCursor(this.from);
    this.end = o.endValue === undefined ? undefined : parseCursor(o.endValue);
    this.last = state === undefined ? undefined : parseCursor(state.lastValue);
    this.previous = new Set(state?.boundaryKeys ?? []);
  }

  /** Rows dropped for being before the start or at/after the end of the window. */
  get outsideWindow(): number {
    return this.outside;
  }

  /** True when the row belongs in this run's partition. `key` is called only when needed. */
  accept(raw: unknown, key: () => string, at: RowPlace): boolean {
    const value = cursorValueOf(raw);
    if (value === NOT_A_CURSOR) {
      throw new IngestError(
        at.code ?? 'BAD_RESPONSE',
        `${at.text}: cursor ${this.path} is ${Array.isArray(raw) ? 'an array' : typeof raw}, expected a string or number`,
        at.context,
      );
    }
    if (value === undefined) return this.missing(at);
    const parsed = parseCursor(value);
    if (compareParsed(parsed, this.start) < 0) {
      this.outside++;
      if (this.o.rowOrder === 'desc') this.exhausted = true;
      return false;
    }
    if (this.end !== undefined && compareParsed(parsed, this.end) >= 0) {
      this.outside++;
      if (this.o.rowOrder === 'asc') this.exhausted = true;
      return false;
    }
    const atLast = this.last !== undefined && compareParsed(parsed, this.last) === 0;
    let k: string | undefined;
    if (atLast && this.previous.size > 0) {
      k = key();
      if (this.previous.has(k)) {
        this.duplicates++;
        return false;
      }
    }
    const order = this.to === undefined ? 1 : compareParsed(parsed, this.to);
    if (order > 0) {
      this.to = parsed;
      this.keysAtTo = new Set([k ?? key()]);
    } else if (order === 0) {
      this.keysAtTo.add(k ?? key());
    }
    return true;
  }

  private missing(at: RowPlace): boolean {
    const mode = this.o.onCursorValueMissing ?? 'raise';
    if (mode === 'raise') {
      throw new IngestError(
        at.code ?? 'BAD_RESPONSE',
        `${at.text} has no cursor value at ${this.path} (set on_cursor_value_missing: include or exclude to accept it)`,
        at.context,
      );
    }
    return mode === 'include';
  }

  /**
   * The range this run read: `to` is the highest of the rows kept, the start and the state's
   * last value (a run never reports a cursor behind the state); `boundaryKeys` are the keys of
   * the rows at `to`, plus the state's when `to` is still its last value.
   */
  range(): CursorRange {
    const floor = this.state ? maxCursor(this.from, this.state.lastValue) : this.from;
    const top = this.to?.value;
    const to = top === undefined ? floor : maxCursor(floor, top);
    const keys = new Set<string>();
    if (top !== undefined && compareCursor(to, top) === 0) for (const k of this.keysAtTo) keys.add(k);
    if (this.state && compareCursor(to, this.state.lastValue) === 0)
      for (const k of this.previous) keys.add(k);
    return {
      path: this.path,
      from: this.from,
      to,
      boundaryKeys: [...keys].sort(),
      duplicatesDropped: this.duplicates,
    };
  }
}
