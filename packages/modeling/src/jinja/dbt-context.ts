import { createHash, randomUUID } from 'node:crypto';
import yaml from 'js-yaml';
import type { Expr } from './ast.js';
import { MacroReturn } from './environment.js';
import type { FilterFn } from './filters.js';
import { pyJsonDumps, pyJsonLoads } from './json.js';
import { parseTemplate } from './parser.js';
import { datetimeModule, PyDateTime, pytzModule, UTC } from './py-datetime.js';
import { itertoolsModule } from './py-itertools.js';
import { reModule } from './py-re.js';
import { isUndefined, PyError, PySet, pyFunction, pyIter, pyStr, toPlain, toTuple } from './values.js';

/** The warehouse target as templates read it (`target.schema`, `target.type`, …). */
export interface DbtTarget {
  name: string;
  schema: string;
  type: string;
  database?: string;
  user?: string;
  host?: string;
  port?: number;
  threads?: number;
  profile_name?: string;
  [key: string]: unknown;
}

/** What {@link createDbtContext} needs; everything but the target's schema has a default. */
export interface DbtContextOptions {
  /** `target.*`; `name` defaults to `default`, `type` to `postgres`. */
  target: Partial<DbtTarget> & { schema: string };
  /** Project `vars` with `--vars` already merged over them; read by `var()`. */
  vars?: Record<string, unknown>;
  /** Environment read by `env_var()` (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Receives every `DBT_ENV_SECRET_*` value a template reads, before the template can print it. */
  redact?: (secret: string) => void;
  /** `log()`, `print()` and `exceptions.warn()` messages (default: dropped). */
  log?: (message: string, level: 'info' | 'debug' | 'warn') => void;
  invocationId?: string;
  runStartedAt?: Date;
  /** `flags.*` (dbt's upper-case names, e.g. `FULL_REFRESH`). */
  flags?: Record<string, unknown>;
  /** `execute`: false while parsing (the default), true when rendering just before running. */
  execute?: boolean;
  /** `graph`: the project's nodes, sources, macros… (default: empty). */
  graph?: Record<string, unknown>;
  /** The clock of `modules.datetime` (default `Date.now`). */
  now?: () => number;
}

const SECRET_PREFIX = 'DBT_ENV_SECRET_';

/** dbt's `var()` failure text (compile.ts locates the `var('…')` call from it). */
export function missingVarMessage(name: string): string {
  return `required var '${name}' not found in project vars or --vars`;
}

function compilerError(message: unknown): never {
  throw new PyError('CompilerError', pyStr(message));
}

function orDefault<T>(fn: () => T, dflt: unknown, hasDefault: boolean): T | unknown {
  try {
    return fn();
  } catch (e) {
    if (hasDefault) return dflt;
    throw e;
  }
}

/** dbt's exceptions namespace. */
function exceptionsNamespace(warn: (m: string) => void): Record<string, unknown> {
  return {
    raise_compiler_error: pyFunction('raise_compiler_error', (a) => compilerError(a[0])),
    warn: pyFunction('warn', (a) => {
      warn(pyStr(a[0]));
      return '';
    }),
    raise_not_implemented: pyFunction('raise_not_implemented', (a) => compilerError(a[0])),
    raise_database_error: pyFunction('raise_database_error', (a) => compilerError(a[0])),
    raise_dependency_error: pyFunction('raise_dependency_error', (a) => compilerError(a[0])),
    raise_fail_fast_error: pyFunction('raise_fail_fast_error', (a) => compilerError(a[0])),
    column_type_missing: pyFunction('column_type_missing', (a) =>
      compilerError(`Column types missing for: ${pyStr(a[0])}`),
    ),
    missing_config: pyFunction('missing_config', (a) =>
      compilerError(`Model '${pyStr(a[0])}' does not define a required config parameter '${pyStr(a[1])}'.`),
    ),
  };
}

/** YAML as PyYAML's `safe_dump` writes it (block style, sequences not indented under keys). */
function toYaml(value: unknown, sortKeys: boolean): string {
  return yaml.dump(toPlain(value), { sortKeys, noArrayIndent: true, lineWidth: -1 });
}

/**
 * The globals dbt adds to Jinja: `var`, `env_var`, `target`, `modules`, `exceptions`, `log`,
 * `print`, `return`, `tojson` / `fromjson`, `toyaml` / `fromyaml`, `zip`, `set`, `local_md5`,
 * `invocation_id`, `run_started_at`, `flags`, `execute`, `graph`, `dbt_version`.
 * The compiler adds what depends on the node (`ref`, `source`, `config`, `this`, `model`).
 *
 * @example
 * const env = new Environment();
 * const ctx = createDbtContext({ target: { schema: 'analytics' }, vars: { days: 3 }, redact: (s) => secrets.add(s) });
 * env.renderString("{{ var('days') * 2 }} {{ target.schema }}", 'm.sql', ctx); // "6 analytics"
 */
export function createDbtContext(options: DbtContextOptions): Record<string, unknown> {
  const env = options.env ?? process.env;
  const vars = options.vars ?? {};
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const started = options.runStartedAt ?? new Date(now());
  const startedMs = started.getTime();
  const target: DbtTarget = { name: 'default', type: 'postgres', ...options.target };
  return {
    var: pyFunction('var', (a) => {
      const name = pyStr(a[0]);
      if (Object.hasOwn(vars, name)) return vars[name];
      if (a.length > 1) return a[1];
      return compilerError(missingVarMessage(name));
    }),
    env_var: pyFunction('env_var', (a) => {
      const name = pyStr(a[0]);
      const value = env[name];
      if (value !== undefined) {
        if (name.startsWith(SECRET_PREFIX)) options.redact?.(value);
        return value;
      }
      if (a.length > 1 && !isUndefined(a[1])) return a[1];
      return compilerError(`Env var required but not provided: '${name}'`);
    }),
    target,
    modules: {
      datetime: datetimeModule(now),
      pytz: pytzModule(),
      re: reModule(),
      itertools: itertoolsModule(),
    },
    exceptions: exceptionsNamespace((m) => log(m, 'warn')),
    log: pyFunction('log', (a, kw) => {
      log(pyStr(a[0]), (a[1] ?? kw.info) === true ? 'info' : 'debug');
      return '';
    }),
    print: pyFunction('print', (a) => {
      log(pyStr(a[0]), 'info');
      return '';
    }),
    return: pyFunction('return', (a) => {
      throw new MacroReturn(a[0] ?? null);
    }),
    tojson: pyFunction('tojson', (a, kw) =>
      orDefault(
        () => pyJsonDumps(a[0], { sortKeys: (a[2] ?? kw.sort_keys) === true }),
        a[1] ?? kw.default,
        a.length > 1 || 'default' in kw,
      ),
    ),
    fromjson: pyFunction('fromjson', (a, kw) =>
      orDefault(() => pyJsonLoads(pyStr(a[0])), a[1] ?? kw.default, a.length > 1 || 'default' in kw),
    ),
    toyaml: pyFunction('toyaml', (a, kw) =>
      orDefault(
        () => toYaml(a[0], (a[2] ?? kw.sort_keys) === true),
        a[1] ?? kw.default,
        a.length > 1 || 'default' in kw,
      ),
    ),
    fromyaml: pyFunction('fromyaml', (a, kw) =>
      orDefault(
        // `json: true`: a duplicated key keeps the last value, as PyYAML's safe_load does.
        () => pyJsonLoads(JSON.stringify(yaml.load(pyStr(a[0]), { json: true }) ?? null)),
        a[1] ?? kw.default,
        a.length > 1 || 'default' in kw,
      ),
    ),
    zip: pyFunction('zip', (a, kw) =>
      orDefault(
        () => {
          const lists = a.map((x) => pyIter(x));
          const n = lists.length ? Math.min(...lists.map((l) => l.length)) : 0;
          return Array.from({ length: n }, (_, i) => toTuple(lists.map((l) => l[i])));
        },
        kw.default ?? null,
        true,
      ),
    ),
    set: pyFunction('set', (a, kw) =>
      orDefault(() => new PySet(pyIter(a[0] ?? [])), a[1] ?? kw.default ?? null, true),
    ),
    set_strict: pyFunction('set_strict', (a) => new PySet(pyIter(a[0]))),
    try_or_compiler_error: pyFunction('try_or_compiler_error', (a) => {
      const [message, fn, ...rest] = a;
      try {
        return (fn as (args: unknown[], kw: object) => unknown)(rest, {});
      } catch {
        return compilerError(message);
      }
    }),
    local_md5: pyFunction('local_md5', (a) => createHash('md5').update(pyStr(a[0])).digest('hex')),
    invocation_id: options.invocationId ?? randomUUID(),
    run_started_at: new PyDateTime(Math.floor(startedMs / 1000) * 1000, (startedMs % 1000) * 1000, UTC, 0),
    flags: { FULL_REFRESH: false, STORE_FAILURES: false, WHICH: 'compile', ...options.flags },
    execute: options.execute ?? false,
    graph: options.graph ?? { nodes: {}, sources: {}, macros: {}, exposures: {}, metrics: {}, groups: {} },
    dbt_version: '1.8.0',
    model: {},
  };
}

/** dbt's text-mode filters: `as_text`, `as_bool`, `as_number`, `as_native` all give the value's text. */
export const DBT_FILTERS: Record<string, FilterFn> = {
  as_text: (_c, v) => pyStr(v),
  as_bool: (_c, v) => pyStr(v),
  as_number: (_c, v) => pyStr(v),
  as_native: (_c, v) => pyStr(v),
};

/** The value of a Python literal expression (what `ast.literal_eval` accepts); throws otherwise. */
function literal(expr: Expr): unknown {
  switch (expr.kind) {
    case 'const':
      return toPlain(expr.value);
    case 'list':
    case 'tuple':
      return expr.items.map(literal);
    case 'dict':
      return Object.fromEntries(expr.pairs.map(([k, v]) => [pyStr(literal(k)), literal(v)]));
    case 'unary':
      if (expr.op !== 'not') {
        const n = literal(expr.node);
        if (typeof n === 'number') return expr.op === '-' ? -n : n;
      }
      break;
    default:
      break;
  }
  throw new PyError('ValueError', 'not a literal');
}

/**
 * The value dbt's native renderer gives for rendered text (`ast.literal_eval`): `True` → true,
 * `3` → 3, `['a', 'b']` → a list, `{'k': 1}` → an object; other text stays text. For YAML config
 * values such as `+enabled`. The text is read with the template expression parser, never rewritten.
 *
 * @example
 * nativeValue('False'); // false
 */
export function nativeValue(text: string): unknown {
  const t = text.trim();
  if (t === 'true' || t === 'false' || t === 'none' || t === '') return text;
  try {
    const body = parseTemplate(`{{ ${t} }}`, '<native>');
    const only = body.length === 1 ? body[0] : undefined;
    return only?.kind === 'print' ? literal(only.expr) : text;
  } catch {
    return text;
  }
}
