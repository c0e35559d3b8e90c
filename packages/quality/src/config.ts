import { QualityError } from './errors.js';
import type { Severity, TestConfig, TestStatus } from './types.js';

/** Sample size when `storeFailuresLimit` is not set. */
export const DEFAULT_STORE_FAILURES_LIMIT = 20;
const DEFAULT_THRESHOLD = '!=0';

type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=';

interface Threshold {
  op: Operator;
  value: number;
}

// dbt pastes warn_if / error_if after `count(*)` in SQL, so SQL comparison operators are what users write.
const THRESHOLD_PATTERN = /^\s*(==|=|!=|<>|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

function parseThreshold(expr: string): Threshold {
  const match = THRESHOLD_PATTERN.exec(expr);
  if (!match) {
    throw new QualityError(
      'INVALID_THRESHOLD',
      `threshold ${JSON.stringify(expr)} is not "<operator> <number>" (operators: = != <> < <= > >=)`,
    );
  }
  const raw = match[1] as string;
  const op: Operator = raw === '==' ? '=' : raw === '<>' ? '!=' : (raw as Operator);
  return { op, value: Number(match[2]) };
}

/**
 * Evaluates a dbt threshold (`warn_if` / `error_if`) against a failure count.
 *
 * @example
 * evaluateThreshold('>10', 11); // true
 * evaluateThreshold('!=0', 0);  // false
 */
export function evaluateThreshold(expr: string, failures: number): boolean {
  const { op, value } = parseThreshold(expr);
  switch (op) {
    case '=':
      return failures === value;
    case '!=':
      return failures !== value;
    case '<':
      return failures < value;
    case '<=':
      return failures <= value;
    case '>':
      return failures > value;
    case '>=':
      return failures >= value;
  }
}

/** Normalises a threshold to dbt's spacing (`>10` → `> 10`) for messages. */
function describeThreshold(expr: string): string {
  const { op, value } = parseThreshold(expr);
  return `${op} ${value}`;
}

/** Config with every default applied. */
export type ResolvedTestConfig = TestConfig & {
  severity: Severity;
  warnIf: string;
  errorIf: string;
  storeFailuresLimit: number;
};

/** Applies defaults and validates a config; throws `INVALID_CONFIG` / `INVALID_THRESHOLD`. */
export function resolveTestConfig(config: TestConfig = {}): ResolvedTestConfig {
  const resolved: ResolvedTestConfig = {
    ...config,
    severity: config.severity ?? 'error',
    warnIf: config.warnIf ?? DEFAULT_THRESHOLD,
    errorIf: config.errorIf ?? DEFAULT_THRESHOLD,
    storeFailuresLimit: config.storeFailuresLimit ?? DEFAULT_STORE_FAILURES_LIMIT,
  };
  if (resolved.severity !== 'error' && resolved.severity !== 'warn') {
    throw new QualityError('INVALID_CONFIG', 'severity must be "error" or "warn"');
  }
  parseThreshold(resolved.warnIf);
  parseThreshold(resolved.errorIf);
  for (const key of ['limit', 'storeFailuresLimit'] as const) {
    const value = resolved[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new QualityError('INVALID_CONFIG', `${key} must be a non-negative integer`);
    }
  }
  if (resolved.where !== undefined && (typeof resolved.where !== 'string' || resolved.where.trim() === '')) {
    throw new QualityError('INVALID_CONFIG', 'where must be a non-empty SQL predicate');
  }
  if (
    resolved.failCalc !== undefined &&
    (typeof resolved.failCalc !== 'string' || resolved.failCalc.trim() === '')
  ) {
    throw new QualityError('INVALID_CONFIG', 'failCalc must be a non-empty SQL aggregate');
  }
  if (resolved.name !== undefined && (typeof resolved.name !== 'string' || resolved.name === '')) {
    throw new QualityError('INVALID_CONFIG', 'name must be a non-empty string');
  }
  return resolved;
}

const CONFIG_KEYS: Record<string, keyof TestConfig> = {
  severity: 'severity',
  warn_if: 'warnIf',
  warnIf: 'warnIf',
  error_if: 'errorIf',
  errorIf: 'errorIf',
  where: 'where',
  limit: 'limit',
  name: 'name',
  store_failures_limit: 'storeFailuresLimit',
  storeFailuresLimit: 'storeFailuresLimit',
  fail_calc: 'failCalc',
  failCalc: 'failCalc',
  store_failures: 'storeFailures',
  storeFailures: 'storeFailures',
  store_failures_as: 'storeFailuresAs',
  storeFailuresAs: 'storeFailuresAs',
};

function toInteger(key: string, value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new QualityError('INVALID_CONFIG', `${key} must be a non-negative integer`);
  }
  return n;
}

/**
 * Parses a test config as written in YAML (dbt's snake_case keys or camelCase). Keys this package does
 * not act on (tags, meta, enabled, schema, ...) are ignored; `null` values mean "unset".
 * `severity` is case-insensitive like dbt (`ERROR`). Thresholds must be strings such as `">10"`.
 *
 * @example
 * parseTestConfig({ severity: 'warn', warn_if: '>10', store_failures_limit: 5 });
 * // { severity: 'warn', warnIf: '>10', storeFailuresLimit: 5 }
 */
export function parseTestConfig(raw: Record<string, unknown>): TestConfig {
  const config: TestConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    const target = CONFIG_KEYS[key];
    if (target === undefined || value === null || value === undefined) continue;
    switch (target) {
      case 'severity': {
        const severity = typeof value === 'string' ? value.trim().toLowerCase() : value;
        if (severity !== 'error' && severity !== 'warn') {
          throw new QualityError('INVALID_CONFIG', 'severity must be "error" or "warn"');
        }
        config.severity = severity;
        break;
      }
      case 'warnIf':
      case 'errorIf':
        if (typeof value !== 'string') {
          throw new QualityError('INVALID_THRESHOLD', `${key} must be a string such as ">10"`);
        }
        parseThreshold(value);
        config[target] = value.trim();
        break;
      case 'where':
      case 'name':
      case 'failCalc':
        if (typeof value !== 'string' || value.trim() === '') {
          throw new QualityError('INVALID_CONFIG', `${key} must be a non-empty string`);
        }
        config[target] = value;
        break;
      case 'limit':
      case 'storeFailuresLimit':
        config[target] = toInteger(key, value);
        break;
      case 'storeFailures': {
        // A Jinja value may arrive as its text (`'True'`).
        const flag = typeof value === 'string' ? value.trim().toLowerCase() : value;
        if (flag !== true && flag !== false && flag !== 'true' && flag !== 'false') {
          throw new QualityError('INVALID_CONFIG', `${key} must be true or false`);
        }
        config.storeFailures = flag === true || flag === 'true';
        break;
      }
      case 'storeFailuresAs':
        if (value !== 'table' && value !== 'view' && value !== 'ephemeral') {
          throw new QualityError('INVALID_CONFIG', `${key} must be table, view or ephemeral`);
        }
        config.storeFailuresAs = value;
        break;
    }
  }
  return config;
}

/**
 * Whether failing rows are stored, and as what (dbt: `store_failures_as` wins; `ephemeral` never stores).
 *
 * @example
 * storesFailuresAs({ storeFailures: true }); // 'table'
 */
export function storesFailuresAs(config: TestConfig): 'table' | 'view' | undefined {
  if (config.storeFailuresAs !== undefined)
    return config.storeFailuresAs === 'ephemeral' ? undefined : config.storeFailuresAs;
  return config.storeFailures === true ? 'table' : undefined;
}

/**
 * Status of an error- or warn-severity test, dbt's rules: with severity `error`, `error_if` is checked
 * first (→ `fail`); otherwise `warn_if` (→ `warn`); otherwise `pass`. Severity `warn` never fails.
 *
 * @example
 * statusFor(3, { severity: 'error', errorIf: '>10', warnIf: '>0' }); // 'warn'
 */
export function statusFor(failures: number, config: TestConfig): TestStatus {
  return _statusForCounts(failures, failures, config);
}

/**
 * `errorFailures` are the failures that may count towards `error_if` (all of them, except for tests with
 * two levels such as freshness, where rows past warn_after only are warnings).
 */
export function _statusForCounts(failures: number, errorFailures: number, config: TestConfig): TestStatus {
  const resolved = resolveTestConfig(config);
  if (resolved.severity === 'error' && evaluateThreshold(resolved.errorIf, errorFailures)) return 'fail';
  if (evaluateThreshold(resolved.warnIf, failures)) return 'warn';
  return 'pass';
}

/** dbt's result message: `Got 3 results, configured to fail if != 0`. */
export function _statusMessage(
  status: TestStatus,
  failures: number,
  errorFailures: number,
  config: TestConfig,
): string | undefined {
  const resolved = resolveTestConfig(config);
  const got = (n: number) => `Got ${n} result${n === 1 ? '' : 's'}`;
  if (status === 'fail')
    return `${got(errorFailures)}, configured to fail if ${describeThreshold(resolved.errorIf)}`;
  if (status === 'warn')
    return `${got(failures)}, configured to warn if ${describeThreshold(resolved.warnIf)}`;
  return undefined;
}

// Keys dbt pops out of a generic test's arguments as configs (TestBuilder.CONFIG_ARGS, plus `config`,
// `name` and `description`): they never reach the test body nor its synthesized name.
const CONFIG_LIKE_ARGS: ReadonlySet<string> = new Set([
  'severity',
  'tags',
  'enabled',
  'where',
  'limit',
  'warn_if',
  'error_if',
  'fail_calc',
  'store_failures',
  'store_failures_as',
  'store_failures_limit',
  'meta',
  'database',
  'schema',
  'alias',
  'config',
  'name',
  'description',
]);

/**
 * Separates test arguments from config-like keys written beside them (dbt accepts `severity: warn` or
 * `config: { where: ... }` next to `values:`). The `config` block wins over top-level keys.
 */
export function _splitTestArgs(raw: Record<string, unknown>): {
  args: Record<string, unknown>;
  config: TestConfig;
} {
  const args: Record<string, unknown> = {};
  const topLevel: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (CONFIG_LIKE_ARGS.has(key)) topLevel[key] = value;
    else args[key] = value;
  }
  const nested = topLevel.config;
  delete topLevel.config;
  const config = parseTestConfig(topLevel);
  if (nested !== undefined && nested !== null) {
    if (typeof nested !== 'object' || Array.isArray(nested)) {
      throw new QualityError('INVALID_CONFIG', 'config must be a mapping');
    }
    Object.assign(config, parseTestConfig(nested as Record<string, unknown>));
  }
  return { args, config };
}
