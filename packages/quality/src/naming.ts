import { createHash } from 'node:crypto';
import { _splitTestArgs } from './config.js';
import type { GenericTestInvocation } from './types.js';

// dbt keeps test relation names under PostgreSQL's 63-byte identifier limit.
const MAX_NAME_LENGTH = 63;

/** Python's `repr()` for the YAML values dbt stringifies inside lists/dicts. */
function pythonRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
      .join(', ')}}`;
  }
  return pythonStr(value);
}

/** Python's `str()` of a scalar, which is what dbt's name synthesis applies to each argument part. */
function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return pythonRepr(value);
}

function testType(inv: GenericTestInvocation): string {
  const dot = inv.test.lastIndexOf('.');
  const namespace = dot === -1 ? undefined : inv.test.slice(0, dot);
  const name = dot === -1 ? inv.test : inv.test.slice(dot + 1);
  const kind = inv.targetType === 'source' ? `source_${name}` : name;
  return namespace === undefined ? kind : `${namespace}_${kind}`;
}

function argumentsOf(inv: GenericTestInvocation): Record<string, unknown> {
  const { args } = _splitTestArgs(inv.args);
  const column = inv.column ?? inv.args.column_name;
  if (column !== undefined) args.column_name = column;
  return args;
}

/** Both of dbt's names: the full one (node name) and the ≤63-character one (alias / relation name). */
function synthesize(inv: GenericTestInvocation): { full: string; short: string } {
  const args = argumentsOf(inv);
  const flat: string[] = [];
  // dbt sorts argument names (Python's default string order = code point order) and skips `model`.
  for (const key of Object.keys(args).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (key === 'model') continue;
    const value = args[key];
    const parts = Array.isArray(value)
      ? value
      : value !== null && typeof value === 'object'
        ? Object.values(value)
        : [value];
    flat.push(...parts.map(pythonStr));
  }
  const unique = flat.map((part) => part.replace(/[^0-9a-zA-Z_]+/g, '_')).join('__');
  const identifier = `${testType(inv)}_${inv.model}`;
  const full = `${identifier}_${unique}`;
  if (full.length <= MAX_NAME_LENGTH) return { full, short: full };
  const hash = createHash('md5').update(full).digest('hex');
  return { full, short: `${identifier.slice(0, 30)}_${hash}` };
}

/**
 * dbt's synthesized test name: `<test>_<model>_<args...>`, arguments sorted by name, each value's
 * non-identifier characters replaced by `_`, parts joined by `__`. Namespaced tests keep the
 * namespace (`dbt_utils_expression_is_true_...`), source tests get `source_` (`source_not_null_raw_orders_id`).
 * Config-like keys among `args` (`severity`, `where`, `config`, ...) are skipped like dbt does, and a
 * `name` (in `config` or `args`) replaces the synthesized name.
 * This is dbt's node name and can exceed 63 characters; see {@link defaultTestAlias}.
 *
 * @example
 * defaultTestName({ test: 'relationships', model: 'orders', column: 'customer_id',
 *   args: { to: "ref('customers')", field: 'customer_id' } });
 * // 'relationships_orders_customer_id__customer_id__ref_customers_'
 */
export function defaultTestName(inv: GenericTestInvocation): string {
  const explicit = inv.config?.name ?? _splitTestArgs(inv.args).config.name;
  return explicit ?? synthesize(inv).full;
}

/**
 * dbt's short name (the test's alias): the full name when it has at most 63 characters, otherwise the
 * first 30 characters of `<test>_<model>` plus `_` and the md5 of the full name.
 *
 * @example
 * defaultTestAlias({ test: 'accepted_values', model: 'orders', column: 'status',
 *   args: { values: ['placed', 'shipped', 'completed', 'return_pending', 'returned'] } });
 * // 'accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758'
 */
export function defaultTestAlias(inv: GenericTestInvocation): string {
  const explicit = inv.config?.name ?? _splitTestArgs(inv.args).config.name;
  return explicit === undefined ? synthesize(inv).short : _aliasForName(explicit);
}

/**
 * {@link defaultTestName} and {@link defaultTestAlias} together, splitting the arguments and
 * synthesizing the name once (compiling a project names thousands of tests).
 */
export function _testNames(inv: GenericTestInvocation): { name: string; alias: string } {
  const explicit = inv.config?.name ?? _splitTestArgs(inv.args).config.name;
  if (explicit !== undefined) return { name: explicit, alias: _aliasForName(explicit) };
  const { full, short } = synthesize(inv);
  return { name: full, alias: short };
}

/** Alias for an explicit name (config `name`, singular tests): itself, or hash-shortened when too long. */
export function _aliasForName(name: string): string {
  if (name.length <= MAX_NAME_LENGTH) return name;
  return `${name.slice(0, 30)}_${createHash('md5').update(name).digest('hex')}`;
}
