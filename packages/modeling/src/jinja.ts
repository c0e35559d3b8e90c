import nunjucks from 'nunjucks';

/** What templates see through dbt's context functions during one render. */
export interface RenderScope {
  ref(name: string): string;
  source(sourceName: string, tableName: string): string;
  config(values: Record<string, unknown>): void;
  var(name: string, defaultValue?: unknown, hasDefault?: boolean): unknown;
  thisRelation: string;
  isIncremental: boolean;
}

/** A template problem located in its file. */
export interface TemplateProblem {
  message: string;
  file: string;
  line?: number;
}

type MacroFn = (...args: unknown[]) => unknown;

const KEYWORDS = '__keywords';

function stripKeywords(value: unknown): Record<string, unknown> {
  if (!value || typeof value !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (k !== KEYWORDS) out[k] = v;
  return out;
}

/** Turns a nunjucks error into message + line (nunjucks puts `[Line n, Column m]` in the text). */
export function templateProblem(error: unknown, file: string, source?: string): TemplateProblem {
  const text = error instanceof Error ? error.message : String(error);
  const m = /\[Line (\d+), Column \d+\]/.exec(text);
  const message = text
    .replace(/^\([^)]*\)\s*(\[Line \d+, Column \d+\])?\s*/, '')
    .replace(/^Error: /, '')
    .trim();
  let line = m ? Number(m[1]) : undefined;
  // nunjucks attributes runtime errors to the start of the enclosing output; a missing var is
  // located precisely by finding its var('name') call.
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

/** dbt's `{% test name(model, column_name) %}` blocks become nunjucks macros named `test_<name>`. */
export function rewriteTestBlocks(source: string): string {
  return source
    .replace(/\{%(-?)\s*test\s+([A-Za-z_][\w]*)\s*\(/g, '{%$1 macro test_$2(')
    .replace(/\{%(-?)\s*endtest\s*(-?)%\}/g, '{%$1 endmacro $2%}');
}

/**
 * One nunjucks environment per compile: dbt context functions as globals that delegate to the
 * scope of the render in progress (rendering is synchronous, so one scope at a time), and
 * project macros exported as globals so models call them like dbt does.
 */
export class JinjaEnvironment {
  private readonly env: nunjucks.Environment;
  private scope: RenderScope | undefined;
  /** Custom generic tests found in macro files: name → parameter-free macro wrapper. */
  readonly testMacros = new Map<string, MacroFn>();
  /** Whether some macro mentions `ref`, `source` or `this` (see {@link outputsContextDirectly}). */
  macrosReadContext = false;
  /** Compiled templates by file: a model renders up to three times per compile. */
  private readonly templates = new Map<string, { source: string; compiled: nunjucks.Template }>();

  constructor(target: { schema: string }) {
    this.env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: false });
    const current = (): RenderScope => {
      if (!this.scope) throw new Error('dbt context function called outside a model render');
      return this.scope;
    };
    this.env.addGlobal('ref', (...names: unknown[]) => current().ref(String(names[names.length - 1])));
    this.env.addGlobal('source', (s: unknown, t: unknown) => current().source(String(s), String(t)));
    this.env.addGlobal('config', (...args: unknown[]) => {
      const values: Record<string, unknown> = {};
      for (const a of args) Object.assign(values, stripKeywords(a));
      current().config(values);
      return '';
    });
    this.env.addGlobal('var', (...args: unknown[]) => {
      const kw =
        args.length > 0 && typeof args[args.length - 1] === 'object' && args[args.length - 1] !== null;
      const positional = kw && KEYWORDS in (args[args.length - 1] as object) ? args.slice(0, -1) : args;
      return current().var(String(positional[0]), positional[1], positional.length > 1);
    });
    this.env.addGlobal('is_incremental', () => current().isIncremental);
    this.env.addGlobal('env_var', (name: unknown, fallback?: unknown) => {
      const v = process.env[String(name)];
      if (v !== undefined) return v;
      if (fallback !== undefined) return fallback;
      throw new Error(`env_var: ${String(name)} is not set`);
    });
    this.env.addGlobal('log', () => '');
    this.env.addGlobal('exceptions', {
      raise_compiler_error: (msg: unknown) => {
        throw new Error(String(msg));
      },
    });
    this.env.addGlobal('target', { schema: target.schema, name: 'default', type: 'postgres' });
  }

  /**
   * Loads one macro file; returns a problem instead of throwing. A package's macros (`packageName` set) are reachable as
   * `<package>.<macro>`, and unqualified until a later file (the root project's, loaded last) defines
   * the same name.
   */
  loadMacros(source: string, file: string, packageName?: string): TemplateProblem | undefined {
    if (CONTEXT_WORD.test(source)) this.macrosReadContext = true;
    try {
      const template = new nunjucks.Template(rewriteTestBlocks(source), this.env, file, true);
      let problem: TemplateProblem | undefined;
      // getExported is synchronous for templates without async filters.
      const exporter = template as unknown as {
        getExported(
          ctx: object,
          frame: null,
          cb: (err: unknown, exported: Record<string, unknown>) => void,
        ): void;
      };
      exporter.getExported({}, null, (err, exported) => {
        if (err) {
          problem = templateProblem(err, file);
          return;
        }
        for (const [name, fn] of Object.entries(exported)) {
          if (typeof fn !== 'function') continue;
          if (name.startsWith('test_')) this.testMacros.set(name.slice(5), fn as MacroFn);
          this.env.addGlobal(name, fn);
          if (packageName) this.packageNamespace(packageName)[name] = fn;
        }
      });
      return problem;
    } catch (error) {
      return templateProblem(error, file);
    }
  }

  private packageNamespace(name: string): Record<string, unknown> {
    const globals = (this.env as unknown as { globals: Record<string, unknown> }).globals;
    const existing = globals[name];
    if (existing && typeof existing === 'object') return existing as Record<string, unknown>;
    const namespace: Record<string, unknown> = {};
    this.env.addGlobal(name, namespace);
    return namespace;
  }

  /** Renders a model / test template within `scope`. Throws a nunjucks error on failure. */
  render(source: string, file: string, scope: RenderScope): string {
    // Plain SQL (no `{{`, `{%` or `{#`) renders to itself; skipping nunjucks saves a compile per file.
    if (!/\{[{%#]/.test(source)) return source;
    const previous = this.scope;
    this.scope = scope;
    this.env.addGlobal('this', scope.thisRelation);
    try {
      let template = this.templates.get(file);
      if (!template || template.source !== source) {
        template = { source, compiled: new nunjucks.Template(source, this.env, file, true) };
        this.templates.set(file, template);
      }
      return template.compiled.render({});
    } finally {
      this.scope = previous;
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
    const previous = this.scope;
    this.scope = scope;
    try {
      const kwargs = { ...args, [KEYWORDS]: true };
      const out = column === undefined ? macro(model, kwargs) : macro(model, column, kwargs);
      return String(out);
    } finally {
      this.scope = previous;
    }
  }
}
