import { createDispatchResolver, type DispatchConfig, type DispatchSettings } from './compile/dispatch.js';
import type { MacroDefinition } from './compile/macro-deps.js';
import { IntrospectionContext } from './introspection/dbt-adapter.js';
import { DbtRelation } from './introspection/relation.js';
import { createDbtContext, DBT_FILTERS, type DbtContextOptions } from './jinja/dbt-context.js';
import { createDispatch, loadDbtMacros, MacroNamespace } from './jinja/dbt-macros.js';
import { Environment, type Template } from './jinja/environment.js';
import { TemplateError } from './jinja/errors.js';
import { DbtRuntimeConfig, invocationArgs, type ProjectDescription } from './jinja/runtime-config.js';
import { isPyCallable, type PyCallable, PyError, pyFunction, pyStr, toPlain } from './jinja/values.js';

/** What templates see through dbt's context functions during one render. */
export interface RenderScope {
  ref(name: string): string;
  source(sourceName: string, tableName: string): string;
  config(values: Record<string, unknown>): void;
  var(name: string, defaultValue?: unknown, hasDefault?: boolean): unknown;
  thisRelation: string;
  isIncremental: boolean;
  /** dbt's `model`: the node being rendered, in the manifest's shape (see `modelDict`). */
  model?: Record<string, unknown>;
  /** Told when a macro that names `ref` / `source` / `this` runs (its output may depend on them). */
  onContextRead?(): void;
}

/** A template problem located in its file. */
export interface TemplateProblem {
  message: string;
  file: string;
  line?: number;
}

/** What `var()` passes as the default to learn whether a var is set. */
const UNSET: unique symbol = Symbol('unset');

/** A macro as the compiler calls it: positional arguments and keyword arguments. */
type MacroFn = PyCallable;

/** Turns a template error into message + line (a {@link TemplateError} carries both). */
export function templateProblem(error: unknown, file: string, source?: string): TemplateProblem {
  const text = error instanceof Error ? error.message : String(error);
  const message = text.replace(/^Error: /, '').trim();
  let line = error instanceof TemplateError ? error.line : undefined;
  // An error is attributed to the start of the enclosing statement; a missing var is located
  // precisely by finding its var('name') call.
  const missingVar = /required var '([^']+)'/.exec(message);
  if (missingVar && source) {
    const at = source.search(
      new RegExp(`var\\(\\s*['"]${missingVar[1]?.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"]`),
    );
    if (at >= 0) line = source.slice(0, at).split('\n').length;
  }
  return { message: message || text, file, ...(line ? { line } : {}) };
}

const STRING_LITERAL = `(?:'[^'\\\\\n]*'|"[^"\\\\\n]*")`;
/** `{{ ref('x') }}`, `{{ ref('pkg', 'x') }}`, `{{ source('a', 'b') }}`, `{{ this }}`: nothing but the value output. */
const DIRECT_CONTEXT_OUTPUT = new RegExp(
  `\\{\\{-?\\s*(?:(?:ref|source)\\(\\s*${STRING_LITERAL}(?:\\s*,\\s*${STRING_LITERAL})*\\s*\\)|this)\\s*-?\\}\\}`,
  'g',
);
const CONTEXT_WORD = /\b(?:ref|source|this)\b/;
const TAG = /\{%-?\s*(\w*)([^%]*)/g;
const PLAIN_TAGS = new Set(['for', 'endfor', 'if', 'elif', 'else', 'endif']);

/**
 * Whether a model template uses `ref()`, `source()` and `this` only by outputting their value
 * directly (`{{ ref('x') }}`), with no tag that could capture or transform output (`filter`,
 * `macro`, `call`, block `set`, ...), so its rendered SQL is the same text whatever those return.
 * Then one render with placeholder tokens, substituted once every relation is known, gives exactly
 * the SQL a second render would. Conservative: any other mention of these words (even in SQL text
 * or comments) answers false.
 */
export function outputsContextDirectly(source: string): boolean {
  if (source.includes('\uE000')) return false;
  const rest = source.replace(DIRECT_CONTEXT_OUTPUT, ' ');
  if (CONTEXT_WORD.test(rest)) return false;
  for (const m of rest.matchAll(TAG)) {
    const tag = m[1] as string;
    if (tag === 'set' ? !(m[2] as string).includes('=') : !PLAIN_TAGS.has(tag)) return false;
  }
  return true;
}

/**
 * dbt's `{% test name(model, column_name) %}` blocks as macros named `test_<name>`. The parser reads
 * `test` blocks itself; this text form is kept for callers that still want it.
 */
export function rewriteTestBlocks(source: string): string {
  return source
    .replace(/\{%(-?)\s*test\s+([A-Za-z_][\w]*)\s*\(/g, '{%$1 macro test_$2(')
    .replace(/\{%(-?)\s*endtest\s*(-?)%\}/g, '{%$1 endmacro $2%}');
}

/** Options of {@link JinjaEnvironment}: the target schema, plus what {@link createDbtContext} takes. */
export type JinjaEnvironmentOptions = { schema: string } & Partial<Omit<DbtContextOptions, 'target'>> & {
    target?: DbtContextOptions['target'];
    /** `--vars` alone (`invocation_args_dict.vars`, the runtime config's `cli_vars`). */
    cliVars?: Record<string, unknown>;
  };

/**
 * One Jinja environment per compile: dbt's globals ({@link createDbtContext}), the context functions
 * that delegate to the scope of the render in progress (rendering is synchronous, so one scope at a
 * time), and project macros exported as globals so models call them like dbt does.
 */
export class JinjaEnvironment {
  /** The engine: add globals, filters or tests here. */
  readonly env = new Environment();
  private scope: RenderScope | undefined;
  /** What `config(…)` set during the render in progress (read by `config.get`). */
  private inlineConfig: Record<string, unknown> = {};
  /** `store_result` / `load_result` of the render in progress. */
  private results = new Map<string, Record<string, unknown>>();
  /** Every macro loaded by {@link loadMacros}, as defined (what `state:modified.macros` compares). */
  readonly macroDefinitions: MacroDefinition[] = [];
  /** Custom generic tests found in macro files: name → macro taking `(args, kwargs)`. */
  readonly testMacros = new Map<string, MacroFn>();
  /** The root project's macros by name (what dispatch searches for the root project). */
  private readonly rootMacros = new Map<string, PyCallable>();
  /** Installed packages' macros: `<package>.<macro>`. */
  private readonly packages = new Map<string, MacroNamespace>();
  private dbtMacros: MacroNamespace = new MacroNamespace();
  private adapterType = 'postgres';
  private readonly cliVars: Readonly<Record<string, unknown>>;
  private readonly targetName: string;
  /** `adapter.get_relation`, `run_query`'s `adapter.execute`, `api.Relation`…: see {@link IntrospectionContext}. */
  readonly introspection: IntrospectionContext;

  constructor(options: JinjaEnvironmentOptions) {
    const { schema, target, cliVars, ...rest } = options;
    const dbt = createDbtContext({ ...rest, target: { ...target, schema: target?.schema ?? schema } });
    for (const [name, value] of Object.entries(dbt)) this.env.globals.set(name, value);
    this.cliVars = cliVars ?? {};
    this.targetName = target?.name ?? 'default';
    const which = pyStr((dbt.flags as Record<string, unknown>).WHICH).toLowerCase();
    this.env.globals.set('invocation_args_dict', invocationArgs(which, this.cliVars));
    for (const [name, filter] of Object.entries(DBT_FILTERS)) this.env.filters.set(name, filter);
    this.installContextFunctions(dbt.var as PyCallable);
    this.installDbtPackage(target?.type ?? 'postgres');
    this.installResults();
    this.introspection = new IntrospectionContext(this.env, (m) => rest.log?.(m, 'debug'));
    this.env.onContextRead = () => this.scope?.onContextRead?.();
    // While parsing (`execute` false) query results are empty: dbt's parser lets templates read into them.
    this.env.lenientMissing = () => this.env.globals.get('execute') !== true;
  }

  private current(): RenderScope {
    if (!this.scope) throw new Error('dbt context function called outside a model render');
    return this.scope;
  }

  /** `ref`, `source`, `config`, `var`, `is_incremental`: the render in progress answers them. */
  private installContextFunctions(dbtVar: PyCallable): void {
    // dbt's ref() / source() return relations, which print as their quoted name.
    const ref = pyFunction('ref', (args) =>
      DbtRelation.fromSql(this.current().ref(pyStr(args[args.length - 1]))),
    );
    const source = pyFunction('source', (args) =>
      DbtRelation.fromSql(this.current().source(pyStr(args[0]), pyStr(args[1]))),
    );
    const config = this.configFunction();
    this.env.globals.set('ref', ref);
    this.env.globals.set('source', source);
    this.env.globals.set('config', config);
    this.env.globals.set('builtins', { ref, source, config });
    this.env.globals.set(
      'var',
      pyFunction('var', (args, kwargs) => {
        if (!this.scope) return dbtVar(args, kwargs);
        const name = pyStr(args[0]);
        const set = this.scope.var(name, UNSET, true);
        // As dbt's `get_rendered_var`: a var's text is rendered when read (`'{{ 5 if … }}'`), a default is not.
        if (set !== UNSET)
          return typeof set === 'string' && /\{[{%#]/.test(set) ? this.renderText(set, `<var ${name}>`) : set;
        const value = this.scope.var(name, toPlain(args[1]), args.length > 1);
        return value === undefined ? null : value;
      }),
    );
    this.env.globals.set(
      'is_incremental',
      pyFunction('is_incremental', () => this.current().isIncremental),
    );
  }

  /**
   * `config(…)`, with dbt's `config.get(name, default)` / `config.require(name)` reading what this
   * render set with `config(…)`; project and YAML layers are the compiler's to add.
   */
  private configFunction(): PyCallable {
    const config = pyFunction('config', (args, kwargs) => {
      const values: Record<string, unknown> = {};
      for (const a of args) Object.assign(values, toPlain(a));
      Object.assign(values, toPlain(kwargs));
      Object.assign(this.inlineConfig, values);
      this.current().config(values);
      return '';
    });
    return Object.assign(config, {
      get: pyFunction('get', (args, kwargs) => {
        const name = pyStr(args[0]);
        if (Object.hasOwn(this.inlineConfig, name)) return this.inlineConfig[name];
        return args[1] ?? kwargs.default ?? null;
      }),
      require: pyFunction('require', (args) => {
        const name = pyStr(args[0]);
        if (Object.hasOwn(this.inlineConfig, name)) return this.inlineConfig[name];
        throw new PyError('CompilerError', `the model does not define a required config parameter '${name}'`);
      }),
    });
  }

  /**
   * The built-in `dbt` package: `dbt.date_trunc(…)`, unqualified names that project macros (loaded
   * later, as globals) override, and `adapter.dispatch` over both, as in dbt.
   */
  private installDbtPackage(adapterType: string): void {
    const dbtMacros = loadDbtMacros(this.env);
    this.dbtMacros = dbtMacros;
    this.adapterType = adapterType;
    const builtins = new Set<unknown>(Object.values(dbtMacros));
    for (const [name, macro] of Object.entries(dbtMacros)) this.env.globals.set(name, macro);
    this.env.globals.set('dbt', dbtMacros);
    const projectMacro = (name: string) => {
      const found = this.env.globals.get(name);
      return isPyCallable(found) && !builtins.has(found) ? found : undefined;
    };
    this.env.globals.set('adapter', {
      dispatch: createDispatch({ projectMacro, dbt: dbtMacros, adapterType }),
    });
  }

  /** `store_result` / `store_raw_result` / `load_result`: statement results by name, per render. */
  private installResults(): void {
    this.env.globals.set(
      'store_result',
      pyFunction('store_result', (args, kwargs) => {
        const table = kwargs.agate_table ?? args[2] ?? null;
        const data = table !== null && typeof table === 'object' && 'rows' in table ? table.rows : [];
        this.results.set(pyStr(args[0]), { response: kwargs.response ?? args[1] ?? null, table, data });
        return '';
      }),
    );
    this.env.globals.set(
      'store_raw_result',
      pyFunction('store_raw_result', (args, kwargs) => {
        const response = {
          message: kwargs.message ?? null,
          code: kwargs.code ?? null,
          rows_affected: kwargs.rows_affected ?? null,
        };
        this.results.set(pyStr(args[0]), { response, table: kwargs.agate_table ?? null, data: [] });
        return '';
      }),
    );
    this.env.globals.set(
      'load_result',
      pyFunction('load_result', (args) => this.results.get(pyStr(args[0])) ?? null),
    );
  }

  /**
   * Loads one macro file; returns a problem instead of throwing. A package's macros (`packageName` set) are reachable as
   * `<package>.<macro>`, and unqualified until a later file (the root project's, loaded last) defines
   * the same name.
   */
  loadMacros(source: string, file: string, packageName?: string): TemplateProblem | undefined {
    try {
      const template = this.env.parse(source, file);
      for (const stmt of template.body)
        if (stmt.kind === 'macro')
          this.macroDefinitions.push({
            name: stmt.name,
            file,
            stmt,
            ...(packageName ? { packageName } : {}),
          });
      const exported = this.env.module(template);
      for (const [name, fn] of exported) {
        if (!isPyCallable(fn)) continue;
        if (name.startsWith('test_')) {
          this.testMacros.set(name.slice(5), fn);
          // `- <package>.<test>:` in YAML names a package's test macro.
          if (packageName) this.testMacros.set(`${packageName}.${name.slice(5)}`, fn);
        }
        if (packageName) {
          this.packageNamespace(packageName)[name] = fn;
          // Unqualified only where nothing (no built-in, no earlier file) has the name yet.
          if (!this.env.globals.has(name)) this.env.globals.set(name, fn);
        } else {
          this.rootMacros.set(name, fn);
          this.env.globals.set(name, fn);
        }
      }
      return undefined;
    } catch (error) {
      return templateProblem(error, file);
    }
  }

  private packageNamespace(name: string): MacroNamespace {
    let namespace = this.packages.get(name);
    if (!namespace) {
      namespace = new MacroNamespace();
      this.packages.set(name, namespace);
      this.env.globals.set(name, namespace);
    }
    return namespace;
  }

  /**
   * What dbt's context says of the projects loaded: `project_name`, and the runtime config that
   * `builtins.ref.config` carries (`dependencies[<package>].version`, `cli_vars`, `args`, `vars`).
   * Called by the parse phase once it has read the project files.
   */
  describeProject(root: ProjectDescription, packages: readonly ProjectDescription[]): void {
    this.env.globals.set('project_name', root.name);
    const args = this.env.globals.get('invocation_args_dict') as Record<string, unknown>;
    const config = new DbtRuntimeConfig(root, packages, {
      cliVars: this.cliVars,
      args,
      targetName: this.targetName,
    });
    Object.assign(this.env.globals.get('ref') as object, { config });
  }

  /**
   * dbt's `adapter.dispatch` over the project, its installed packages and the built-in `dbt`
   * namespace, with the project's `dispatch:` search orders (see {@link dispatchCandidates}).
   * Called by the parse phase once it knows the project and its packages.
   */
  configureDispatch(settings: { rootProject: string; dispatch: readonly DispatchConfig[] }): void {
    const full: DispatchSettings = {
      rootProject: settings.rootProject,
      packages: new Set(this.packages.keys()),
      dispatch: settings.dispatch,
      prefixes: [this.adapterType, 'default'],
    };
    const lookup = (pkg: string | undefined, macro: string): PyCallable | undefined => {
      const found =
        pkg === undefined
          ? this.env.globals.get(macro)
          : pkg === settings.rootProject
            ? this.rootMacros.get(macro)
            : pkg === 'dbt'
              ? this.dbtMacros[macro]
              : this.packages.get(pkg)?.[macro];
      return isPyCallable(found) ? found : undefined;
    };
    // dbt exposes the root project's macros under its name too (`my_project.my_macro()`), tests included.
    for (const [name, fn] of this.rootMacros)
      if (name.startsWith('test_')) this.testMacros.set(`${settings.rootProject}.${name.slice(5)}`, fn);
    if (!this.env.globals.has(settings.rootProject) && !this.packages.has(settings.rootProject))
      this.env.globals.set(
        settings.rootProject,
        Object.assign(new MacroNamespace(), Object.fromEntries(this.rootMacros)),
      );
    const resolve = createDispatchResolver(full);
    const adapter = this.env.globals.get('adapter') as Record<string, unknown>;
    // dbt-postgres's quoting: double quotes, embedded quotes doubled.
    adapter.quote ??= pyFunction('quote', (args) => `"${pyStr(args[0]).replaceAll('"', '""')}"`);
    adapter.dispatch = pyFunction('dispatch', (args, kwargs) => {
      const name = pyStr(args[0] ?? kwargs.macro_name);
      const ns = args[1] ?? kwargs.macro_namespace;
      const namespace = ns === undefined || ns === null ? undefined : pyStr(ns);
      try {
        return resolve(name, namespace, lookup);
      } catch (error) {
        throw new PyError('CompilerError', (error as Error).message);
      }
    });
  }

  /**
   * dbt's `generate_<component>_name` for a node of `packageName` (the root project when undefined):
   * the root project's macro, else the node's own package's, else the built-in one, which dispatches
   * in the `dbt` namespace (so a project's `default__generate_schema_name` counts). Undefined when
   * that is dbt's default implementation: the compiler applies the same rule without rendering.
   */
  generateNameMacro(
    component: 'schema' | 'alias' | 'database',
    packageName?: string,
  ): PyCallable | undefined {
    const name = `generate_${component}_name`;
    const own =
      this.rootMacros.get(name) ??
      (packageName === undefined ? undefined : this.packages.get(packageName)?.[name]);
    if (isPyCallable(own)) return own;
    const dispatch = (this.env.globals.get('adapter') as { dispatch?: unknown } | undefined)?.dispatch;
    const builtin = this.dbtMacros[name];
    if (!isPyCallable(dispatch) || !isPyCallable(builtin)) return undefined;
    return dispatch([name, 'dbt'], {}) === this.dbtMacros[`default__${name}`] ? undefined : builtin;
  }

  /** Renders a model / test template within `scope`. Throws a {@link TemplateError} on failure. */
  render(source: string, file: string, scope: RenderScope): string {
    // Plain SQL (no `{{`, `{%` or `{#`) renders to itself; skipping the parser saves work per file.
    if (!/\{[{%#]/.test(source)) return source;
    const template: Template = this.env.parse(source, file);
    const context = {
      this: DbtRelation.fromSql(scope.thisRelation),
      ...(scope.model ? { model: scope.model } : {}),
    };
    return this.within(scope, () => this.env.render(template, context));
  }

  /**
   * Renders text outside any model render (Jinja in YAML values such as `+enabled`): `var()` reads
   * the options' `vars`, `ref`/`source`/`config` fail. {@link nativeValue} turns the text into the
   * value dbt's native rendering would give.
   */
  renderText(source: string, file: string): string {
    if (!/\{[{%#]/.test(source)) return source;
    return this.env.render(this.env.parse(source, file));
  }

  /**
   * Runs `fn` (renders) with some globals replaced, then restores them: a unit test's `overrides`
   * of macros (a macro then returns the given value) and of `env_var` values.
   */
  withOverrides<T>(
    overrides: { macros?: Record<string, unknown>; envVars?: Record<string, string> },
    fn: () => T,
  ): T {
    const replaced: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(overrides.macros ?? {})) {
      replaced[name] = pyFunction(name, () => value);
    }
    const envVars = overrides.envVars ?? {};
    if (Object.keys(envVars).length > 0) {
      const original = this.env.globals.get('env_var');
      replaced.env_var = pyFunction('env_var', (args, kwargs) => {
        const name = pyStr(args[0]);
        if (Object.hasOwn(envVars, name)) return envVars[name];
        return isPyCallable(original) ? original(args, kwargs) : null;
      });
    }
    const previous = Object.keys(replaced).map((name) => [name, this.env.globals.get(name)] as const);
    for (const [name, value] of Object.entries(replaced)) this.env.globals.set(name, value);
    try {
      return fn();
    } finally {
      for (const [name, value] of previous) {
        if (value === undefined) this.env.globals.delete(name);
        else this.env.globals.set(name, value);
      }
    }
  }

  /** Calls a custom generic test macro (`{% test name(model, column_name, ...) %}`) within `scope`. */
  callTestMacro(
    name: string,
    scope: RenderScope,
    model: string,
    column: string | undefined,
    args: Record<string, unknown>,
  ) {
    const macro = this.testMacros.get(name);
    if (!macro) throw new Error(`unknown test macro ${name}`);
    return this.within(scope, () =>
      this.env.withContext({ this: DbtRelation.fromSql(scope.thisRelation) }, () => {
        // As in dbt, `model` is the tested Relation (`dbt_utils._is_relation(model)`); it renders as its SQL.
        const kwargs = {
          ...args,
          model: DbtRelation.fromSql(model),
          ...(column === undefined ? {} : { column_name: column }),
        };
        return pyStr(macro([], kwargs));
      }),
    );
  }

  private within<T>(scope: RenderScope, fn: () => T): T {
    const previous = this.scope;
    const previousConfig = this.inlineConfig;
    const previousResults = this.results;
    this.scope = scope;
    this.inlineConfig = {};
    this.results = new Map();
    try {
      return fn();
    } finally {
      this.scope = previous;
      this.inlineConfig = previousConfig;
      this.results = previousResults;
    }
  }
}
