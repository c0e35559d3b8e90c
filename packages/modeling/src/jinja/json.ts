import { dictEntries, floatRepr, isMapping, isUndefined, PyError, PyFloat, pyTypeName } from './values.js';

/** Options of {@link pyJsonDumps}. */
export interface JsonDumpsOptions {
  sortKeys?: boolean;
  indent?: number | undefined;
  ensureAscii?: boolean;
}

function jsonString(s: string, ascii: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (ascii && c > 0x7e)) {
      if (c > 0xffff) {
        const hi = Math.floor((c - 0x10000) / 0x400) + 0xd800;
        const lo = ((c - 0x10000) % 0x400) + 0xdc00;
        out += `\\u${hi.toString(16).padStart(4, '0')}\\u${lo.toString(16).padStart(4, '0')}`;
      } else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Python's `json.dumps` (default separators, `ensure_ascii`, optional `sort_keys` / `indent`). */
export function pyJsonDumps(value: unknown, options: JsonDumpsOptions = {}, depth = 0): string {
  const ascii = options.ensureAscii ?? true;
  const indent = options.indent;
  const nl = indent === undefined ? '' : `\n${' '.repeat(indent * (depth + 1))}`;
  const end = indent === undefined ? '' : `\n${' '.repeat(indent * depth)}`;
  const itemSep = indent === undefined ? ', ' : ',';
  if (value === null || isUndefined(value)) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return Number.isInteger(value) ? String(value) : floatRepr(value);
  }
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (typeof value === 'string') return jsonString(value, ascii);
  if (Array.isArray(value) || value instanceof Set) {
    const items = [...value];
    if (!items.length) return '[]';
    return `[${nl}${items.map((x) => pyJsonDumps(x, options, depth + 1)).join(itemSep + nl)}${end}]`;
  }
  if (isMapping(value)) {
    let entries = dictEntries(value).map(([k, v]) => [jsonKey(k), v] as [string, unknown]);
    if (!entries.length) return '{}';
    if (options.sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const parts = entries.map(([k, v]) => `${jsonString(k, ascii)}: ${pyJsonDumps(v, options, depth + 1)}`);
    return `{${nl}${parts.join(itemSep + nl)}${end}}`;
  }
  if (value instanceof Date) return jsonString(value.toISOString(), ascii);
  throw new PyError('TypeError', `Object of type ${pyTypeName(value)} is not JSON serializable`);
}

function jsonKey(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k === true) return 'true';
  if (k === false) return 'false';
  if (k === null) return 'null';
  if (typeof k === 'number') return Number.isInteger(k) ? String(k) : floatRepr(k);
  if (k instanceof PyFloat) return floatRepr(k.value);
  throw new PyError('TypeError', `keys must be str, int, float, bool or None, not ${pyTypeName(k)}`);
}

/** Python's `json.loads`: objects become dicts (Maps keep key order), integral floats stay floats. */
export function pyJsonLoads(text: string): unknown {
  const parsed = JSON.parse(
    text,
    function reviver(this: unknown, _key, value, context?: { source?: string }) {
      if (
        typeof value === 'number' &&
        context?.source &&
        /[.eE]/.test(context.source) &&
        Number.isInteger(value)
      ) {
        return new PyFloat(value);
      }
      return value;
    },
  );
  return toMaps(parsed);
}

function toMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toMaps);
  if (v !== null && typeof v === 'object' && !(v instanceof PyFloat)) {
    const m = new Map<unknown, unknown>();
    for (const [k, x] of Object.entries(v)) m.set(k, toMaps(x));
    return m;
  }
  return v;
}
