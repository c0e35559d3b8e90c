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
export function createCompileContext(args: Omit<CompileContext, 'var'>): CompileContext {
  return { ...args, var: varLookup(args.vars) };
}
