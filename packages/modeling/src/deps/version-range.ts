/** A release version `major.minor.patch` (dbt packages use plain semver, no build metadata). */
export type Version = readonly [number, number, number];

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;
const COMPARATOR = /^(>=|<=|>|<|==|=)?\s*(v?\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?)$/;

/** Parses `1.2.3` (a `v` prefix allowed); undefined for anything else, pre-releases included. */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m || m[4] !== undefined) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

type Comparator = { op: '>=' | '<=' | '>' | '<' | '='; version: Version };

/**
 * Parses one dbt version spec: `1.1.0`, `>=1.0.0`, `<2.0.0`, or a partial `>=1.0` (missing parts
 * are zero). Throws a plain Error naming the spec when it is none of those.
 */
export function parseComparator(spec: string): Comparator {
  const m = COMPARATOR.exec(spec.trim());
  const parts = m?.[2]?.replace(/^v/, '').split('.');
  if (!m || !parts) throw new Error(`'${spec}' is not a version or a comparison like '>=1.0.0'`);
  while (parts.length < 3) parts.push('0');
  const version = parseVersion(parts.join('.'));
  if (!version) throw new Error(`'${spec}' is not a release version (pre-releases are not installed)`);
  const op = m[1] === '==' || m[1] === undefined ? '=' : (m[1] as Comparator['op']);
  return { op, version };
}

function satisfies(version: Version, c: Comparator): boolean {
  const d = compareVersions(version, c.version);
  if (c.op === '=') return d === 0;
  if (c.op === '>=') return d >= 0;
  if (c.op === '<=') return d <= 0;
  if (c.op === '>') return d > 0;
  return d < 0;
}

/**
 * The highest of `available` that meets every spec (dbt's rule: all ranges a package is required
 * with, from the project and from other packages, are intersected). Pre-releases never match.
 *
 * @example
 * pickVersion(['1.0.0', '1.3.0', '2.0.0'], ['>=1.0.0', '<2.0.0']); // '1.3.0'
 */
export function pickVersion(available: readonly string[], specs: readonly string[]): string | undefined {
  const comparators = specs.map(parseComparator);
  let best: { text: string; version: Version } | undefined;
  for (const text of available) {
    const version = parseVersion(text);
    if (!version || !comparators.every((c) => satisfies(version, c))) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { text, version };
  }
  return best?.text;
}
