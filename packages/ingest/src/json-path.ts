import { createRequire } from 'node:module';
import type { JSONPath as JsonPathFn } from 'jsonpath-plus';
import { IngestError } from './errors.js';

let jsonPathLib: typeof JsonPathFn | undefined;

/** jsonpath-plus, required on the first `$` path: dotted-path sources never load it. */
function jsonPath(): typeof JsonPathFn {
  jsonPathLib ??= (createRequire(import.meta.url)('jsonpath-plus') as { JSONPath: typeof JsonPathFn })
    .JSONPath;
  return jsonPathLib;
}

/** A compiled path: every value it selects in a JSON value (none when it selects nothing). */
export interface CompiledPath {
  /** The path as written. */
  readonly text: string;
  /** True when the path can select several values (wildcards, `..`, filters, slices, unions). */
  readonly dynamic: boolean;
  /** All selected values, in document order. */
  all(value: unknown): unknown[];
  /** The first selected value, or `undefined`. */
  first(value: unknown): unknown;
}

/** Segments jsonpath-plus gives for wildcards, descendants, filters, scripts and slices. */
const DYNAMIC_SEGMENT = /^(\*|\.\.|[?(@~^`]|.*[:,])/;

function walk(value: unknown, segments: readonly string[]): unknown {
  let current: unknown = value;
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function fixedPath(text: string, segments: readonly string[]): CompiledPath {
  return {
    text,
    dynamic: false,
    all: (value) => {
      const found = walk(value, segments);
      return found === undefined ? [] : [found];
    },
    first: (value) => walk(value, segments),
  };
}

function jsonPathSegments(text: string): string[] {
  try {
    return [...jsonPath().toPathArray(text)];
  } catch (cause) {
    throw new IngestError('INVALID_OPTIONS', `invalid JSONPath ${JSON.stringify(text)}`, { cause });
  }
}

/**
 * Compiles a record, cursor or pagination path. A path starting with `$` is JSONPath (evaluated
 * by jsonpath-plus with its safe script evaluator: wildcards, `..`, filters); any other path is
 * the dotted form dataflow always took (`data.items`, `meta.0.next`; `''` is the value itself).
 * JSONPaths that name fixed members only (`$.data.items`, `$['a b'][0]`) are walked directly,
 * since cursor paths run once per record.
 *
 * @example
 * compilePath('$.data[?(@.active)]').all({ data: [{ active: true }, { active: false }] }); // [{ active: true }]
 * compilePath('meta.next').first({ meta: { next: 'c2' } }); // 'c2'
 */
export function compilePath(text: string): CompiledPath {
  if (!text.startsWith('$')) return fixedPath(text, text === '' ? [] : text.split('.'));
  const segments = jsonPathSegments(text);
  if (segments[0] === '$' && segments.slice(1).every((s) => !DYNAMIC_SEGMENT.test(s))) {
    return fixedPath(text, segments.slice(1));
  }
  const run = (value: unknown): unknown[] => {
    if (value === null || typeof value !== 'object') return [];
    try {
      return jsonPath()({ path: text, json: value, wrap: true, eval: 'safe' }) as unknown[];
    } catch (cause) {
      // jsonpath-plus parses filters lazily: a broken one surfaces on the first evaluation.
      throw new IngestError('INVALID_OPTIONS', `invalid JSONPath ${JSON.stringify(text)}`, { cause });
    }
  };
  return { text, dynamic: true, all: run, first: (value) => run(value)[0] };
}

const compiled = new Map<string, CompiledPath>();

function cached(path: string): CompiledPath {
  let c = compiled.get(path);
  if (c === undefined) {
    c = compilePath(path);
    if (compiled.size < 1000) compiled.set(path, c);
  }
  return c;
}

/**
 * The first value `path` (JSONPath or dotted, see {@link compilePath}) selects in `value`, or
 * `undefined`. Compiled paths are cached by their text.
 *
 * @example
 * readPath({ data: { items: [1] } }, '$.data.items'); // [1]
 * readPath({ data: { items: [1] } }, 'data.items');   // [1]
 */
export function readPath(value: unknown, path: string): unknown {
  return cached(path).first(value);
}

/**
 * The records a `records:` path selects in a page body: the array it points at, or, for a
 * JSONPath that can select several values (`$.data[*]`, `$..items[?(@.id)]`), those values
 * (one selected array counts as the records array). `undefined` when a fixed path selects
 * nothing or a non-array.
 *
 * @example
 * selectRecords({ data: [{ id: 1 }] }, 'data');                // [{ id: 1 }]
 * selectRecords({ a: [{ id: 1 }], b: [{ id: 2 }] }, '$.*[*]'); // [{ id: 1 }, { id: 2 }]
 */
export function selectRecords(body: unknown, path: string): unknown[] | undefined {
  const c = cached(path);
  const found = c.all(body);
  const only = found[0];
  if (found.length === 1 && Array.isArray(only)) return only;
  return c.dynamic ? found : undefined;
}
