import type { JinjaEnvironment } from '../jinja.js';
import type { DiagnosticSink } from './diagnostics.js';

/** dbt's `var()`: project vars overridden by `--vars`; a missing var without default is an error. */
export type VarLookup = (name: string, defaultValue?: unknown, hasDefault?: boolean) => unknown;

/**
 * What every compile phase reads: passed explicitly, never closed over. The build can keep it to
 * render a node again (`execute` true) with the same macros and vars just before the node runs.
 */
export interface CompileContext {
  /** The root project's name (`packageName` of its nodes, first part of unique ids). */
  projectName: string;
  /** Target schema; `+schema: x` builds into `<targetSchema>_x`. */
  targetSchema: string;
  vars: Readonly<Record<string, unknown>>;
  var: VarLookup;
  /** `var()` as a node of `packageName` sees it (the root project's lookup when undefined or the root). */
  varFor(packageName: string | undefined): VarLookup;
  /** Macros of the project (and, later, of its packages) loaded by the parse phase. */
  jinja: JinjaEnvironment;
  diagnostics: DiagnosticSink;
}

/** The `var()` of a render: `vars[name]`, else the default, else a template error. */
export function varLookup(vars: Readonly<Record<string, unknown>>): VarLookup {
  return (name, defaultValue, hasDefault) => {
    if (Object.hasOwn(vars, name)) return vars[name];
    if (hasDefault) return defaultValue;
    throw new Error(`required var '${name}' not found in project vars or --vars`);
  };
}

/**
 * @example
 * const ctx = createCompileContext({ projectName: 'shop', targetSchema: 'analytics', vars: {}, jinja, diagnostics });
 */
export function createCompileContext(
  args: Omit<CompileContext, 'var' | 'varFor'> & { packageVars?: ReadonlyMap<string, PackageVars> },
): CompileContext {
  const { packageVars, ...rest } = args;
  const root = varLookup(args.vars);
  const lookups = new Map<string, VarLookup>();
  for (const [name, scoped] of packageVars ?? []) lookups.set(name, varLookup(scopedVars(name, scoped)));
  return { ...rest, var: root, varFor: (pkg) => (pkg === undefined ? root : (lookups.get(pkg) ?? root)) };
}

/** What decides the vars of one installed package. */
export interface PackageVars {
  /** The package's own `dbt_project.yml` `vars`. */
  own: Readonly<Record<string, unknown>>;
  /** The root project's `vars` (global keys, and per-package scopes keyed by package name). */
  root: Readonly<Record<string, unknown>>;
  /** `--vars`, over everything. */
  cli: Readonly<Record<string, unknown>>;
}

const isScope = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * dbt's var precedence for a node of package `name`, lowest first: the package's own global vars,
 * its own `vars: { <name>: … }` scope, the root project's global vars, the root project's scope
 * for the package, `--vars`.
 *
 * @example
 * scopedVars('dbt_date', { own: { tz: 'UTC' }, root: { dbt_date: { tz: 'Europe/Paris' } }, cli: {} }).tz; // 'Europe/Paris'
 */
export function scopedVars(name: string, v: PackageVars): Record<string, unknown> {
  const own = v.own[name];
  const rootScope = v.root[name];
  return {
    ...v.own,
    ...(isScope(own) ? own : {}),
    ...v.root,
    ...(isScope(rootScope) ? rootScope : {}),
    ...v.cli,
  };
}
