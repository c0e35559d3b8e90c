import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Environment, Template } from './environment.js';
import { parseTemplate } from './parser.js';
import { isPyCallable, type PyCallable, PyError, pyFunction, pyStr } from './values.js';

/** Where the built-in `dbt` macro files live (`<package>/dbt-macros`, beside `src` and `dist`). */
export const DBT_MACRO_DIR = fileURLToPath(new URL('../../dbt-macros/', import.meta.url));

let cachedFiles: { file: string; source: string }[] | undefined;
/** Parsed once per process: templates are immutable, every environment runs its own copy of the macros. */
let cachedTemplates: Template[] | undefined;

/**
 * The built-in `dbt` package's macro files (cross-database macros: `date_trunc`, `datediff`,
 * `dateadd`, `type_string`, `date_spine`, …), each with a dispatching macro and its
 * `default__` / `postgres__` implementations, in file-name order.
 *
 * @example
 * for (const { file, source } of dbtMacroFiles()) console.log(file, source.length);
 */
export function dbtMacroFiles(): { file: string; source: string }[] {
  cachedFiles ??= readdirSync(DBT_MACRO_DIR)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ file: `dbt/${f}`, source: readFileSync(`${DBT_MACRO_DIR}${f}`, 'utf8') }));
  return cachedFiles;
}

/** `dbt.<macro>`: the built-in package's macros as attributes. */
export class MacroNamespace {
  [name: string]: unknown;
}

/**
 * Runs the built-in macro files in `env` and returns the `dbt` namespace (every macro, including
 * the `default__` / `postgres__` implementations, by name).
 *
 * @example
 * const dbt = loadDbtMacros(env);
 * env.globals.set('dbt', dbt);
 */
export function loadDbtMacros(env: Environment): MacroNamespace {
  const namespace = new MacroNamespace();
  cachedTemplates ??= dbtMacroFiles().map(({ file, source }) => ({
    file,
    body: parseTemplate(source, file),
  }));
  for (const template of cachedTemplates) {
    for (const [name, value] of env.module(template)) {
      if (isPyCallable(value)) namespace[name] = value;
    }
  }
  return namespace;
}

/** What {@link createDispatch} searches: project macros first, then the built-in `dbt` package. */
export interface DispatchSources {
  /** A project (or package) macro by name; undefined when there is none. */
  projectMacro(name: string): PyCallable | undefined;
  dbt: MacroNamespace;
  /** The adapter prefix tried before `default__` (`postgres`). */
  adapterType: string;
}

/**
 * A minimal `adapter.dispatch(name, macro_namespace)`: the project's `postgres__name`, then its
 * `default__name`, then the built-in package's. Search orders from `dispatch:` config and
 * installed packages are the compiler's to add; it can replace this function wholesale.
 *
 * @example
 * env.globals.set('adapter', { dispatch: createDispatch({ projectMacro, dbt, adapterType: 'postgres' }) });
 */
export function createDispatch(sources: DispatchSources): PyCallable {
  return pyFunction('dispatch', (args, kwargs) => {
    const name = pyStr(args[0] ?? kwargs.macro_name);
    const candidates = [`${sources.adapterType}__${name}`, `default__${name}`];
    for (const c of candidates) {
      const own = sources.projectMacro(c);
      if (own) return own;
    }
    for (const c of candidates) {
      const builtin = sources.dbt[c];
      if (isPyCallable(builtin)) return builtin;
    }
    throw new PyError(
      'CompilerError',
      `In dispatch: No macro named '${name}' found within namespace: '${pyStr(args[1] ?? kwargs.macro_namespace ?? 'dbt')}'\n    Searched for: '${candidates.join("', '")}'`,
    );
  });
}
