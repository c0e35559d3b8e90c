import type { CallArgs, Expr, MacroParam, Stmt, Target } from './ast.js';
import { TemplateError } from './errors.js';
import { BUILTIN_FILTERS, type FilterContext, type FilterFn } from './filters.js';
import { binaryOp, compareOp, concatOp, unaryOp } from './ops.js';
import { BODY_VAR, parsedWithoutBlocks, parseTemplate } from './parser.js';
import {
  callValue,
  getattr,
  getitem,
  jinjaGlobals,
  LoopContext,
  Namespace,
  slice,
  undefinedError,
} from './runtime.js';
import { BUILTIN_TESTS, type TestFn } from './tests.js';
import {
  dictEntries,
  dictKey,
  isMapping,
  isUndefined,
  type PyCallable,
  PyError,
  pyCompare,
  pyFunction,
  pyIter,
  pyStr,
  toTuple,
  truthy,
  Undefined,
} from './values.js';

/** Variables of one scope; lookups walk up to the template's top frame, then the render context. */
class Frame {
  readonly vars = new Map<string, unknown>();
  /**
   * @param isolated a top frame that sees only the globals past it, not the render context
   *   (templates included `without context`, modules imported without it)
   */
  constructor(
    readonly parent: Frame | undefined,
    readonly isolated = false,
  ) {}
}

const BREAK = { signal: 'break' };
const CONTINUE = { signal: 'continue' };

/** dbt's `return(value)`: ends the macro call with `value` as its result. */
export class MacroReturn {
  constructor(readonly value: unknown) {}
}

/** A parsed template, ready to render many times. */
export interface Template {
  readonly file: string;
  readonly body: Stmt[];
}

/**
 * A Jinja2 environment: globals, filters, tests, and the render contexts of renders in progress
 * (rendering is synchronous; a macro sees the context of the render that calls it, as in dbt).
 *
 * @example
 * const env = new Environment();
 * env.renderString('{{ [1, 2] ~ None }}', 'x.sql'); // "[1, 2]None"
 */
export class Environment {
  readonly globals = new Map<string, unknown>(Object.entries(jinjaGlobals()));
  readonly filters = new Map<string, FilterFn>(Object.entries(BUILTIN_FILTERS));
  readonly tests = new Map<string, TestFn>(Object.entries(BUILTIN_TESTS));
  private readonly contexts: Map<string, unknown>[] = [];
  private readonly cache = new Map<string, { source: string; template: Template }>();
  /**
   * Called each time a macro whose body names one of {@link CONTEXT_NAMES} runs: a caller that
   * renders with placeholder relations learns that some macro may have looked at them.
   */
  onContextRead: (() => void) | undefined;
  /**
   * Finds a template's source by name for `include`, `import`, `from … import` and `extends`
   * (Jinja2's loader); undefined when there is no such template.
   */
  loader: ((name: string) => string | undefined) | undefined;
  /**
   * dbt's parse-time leniency: while this returns true, an attribute, item or call of a value a
   * lookup on a real object did not find (`{}.DATE[0]`, `load_result('x')['data'][0]`: query
   * results are empty while parsing) is undefined again instead of an error, as in dbt's parser.
   * Undefined names stay errors.
   */
  lenientMissing: (() => boolean) | undefined;

  /** The template `name` from {@link loader}, parsed (and cached); undefined when it does not exist. */
  getTemplate(name: string): Template | undefined {
    const source = this.loader?.(name);
    return source === undefined ? undefined : this.parse(source, name);
  }

  /** Parses (cached by file and text, in this environment and across environments); throws {@link TemplateError} with file and line. */
  parse(source: string, file: string): Template {
    const hit = this.cache.get(file);
    if (hit && hit.source === source) return hit.template;
    const template = { file, body: sharedParse(source, file) };
    this.cache.set(file, { source, template });
    return template;
  }

  /** Renders a template with `context` visible to it and to every macro it calls. */
  render(template: Template, context: Record<string, unknown> | Map<string, unknown> = {}): string {
    return this.withContext(context, () => {
      const out: string[] = [];
      new Renderer(this, template.file).renderTemplate(
        template.body,
        new Frame(undefined),
        out,
        new BlockTable(),
      );
      return out.join('');
    });
  }

  /** Parses and renders `source`. */
  renderString(
    source: string,
    file: string,
    context: Record<string, unknown> | Map<string, unknown> = {},
  ): string {
    return this.render(this.parse(source, file), context);
  }

  /** Runs a template's top level and returns what it defines (macros and top-level `set`s). */
  module(
    template: Template,
    context: Record<string, unknown> | Map<string, unknown> = {},
  ): Map<string, unknown> {
    return this.withContext(context, () => {
      const frame = new Frame(undefined);
      new Renderer(this, template.file).exec(template.body, frame, []);
      return frame.vars;
    });
  }

  /** Runs `fn` with `context` as the innermost render context. */
  withContext<T>(context: Record<string, unknown> | Map<string, unknown>, fn: () => T): T {
    this.contexts.push(context instanceof Map ? context : new Map(Object.entries(context)));
    try {
      return fn();
    } finally {
      this.contexts.pop();
    }
  }

  /** A name not set in the template: the innermost render context, then the globals. */
  resolve(name: string): unknown {
    const ctx = this.contexts[this.contexts.length - 1];
    if (ctx?.has(name)) return ctx.get(name);
    if (this.globals.has(name)) return this.globals.get(name);
    return new Undefined(name);
  }

  applyFilter(name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>): unknown {
    const f = this.filters.get(name);
    if (!f) throw new PyError('TemplateAssertionError', `No filter named '${name}'.`);
    return f(this.filterContext, value, args, kwargs);
  }

  applyTest(name: string, value: unknown, args: unknown[]): boolean {
    const t = this.tests.get(name);
    if (!t) throw new PyError('TemplateAssertionError', `No test named '${name}'.`);
    return t(value, args, this.lookup);
  }

  private readonly lookup = {
    hasFilter: (n: string) => this.filters.has(n),
    hasTest: (n: string) => this.tests.has(n),
  };

  private readonly filterContext: FilterContext = {
    getattr,
    applyFilter: (n, v, a, k) => this.applyFilter(n, v, a, k),
    applyTest: (n, v, a) => this.applyTest(n, v, a),
  };
}

/**
 * Parsed bodies shared by every environment of the process, by template text (a body holds no
 * file name: errors name the file of the template being rendered): a package's macro files are the
 * same text compile after compile, and files with the same text share one parse. Bounded by
 * count, oldest dropped first; bodies are never mutated.
 */
const PARSED = new Map<string, Stmt[]>();
const MAX_PARSED = 5000;

function sharedParse(source: string, file: string): Stmt[] {
  const hit = PARSED.get(source);
  if (hit) return hit;
  const body = parseTemplate(source, file);
  if (PARSED.size >= MAX_PARSED) PARSED.delete(PARSED.keys().next().value as string);
  PARSED.set(source, body);
  return body;
}

/** Names whose value depends on the relations a render resolves: `ref`, `source`, `this` and their containers. */
export const CONTEXT_NAMES: ReadonlySet<string> = new Set(['ref', 'source', 'this', 'builtins', 'context']);
const readsContextCache = new WeakMap<Stmt[], boolean>();

/** Whether a macro body names one of {@link CONTEXT_NAMES} anywhere (nested macros included). */
export function bodyReadsContext(body: Stmt[]): boolean {
  const cached = readsContextCache.get(body);
  if (cached !== undefined) return cached;
  const reads = mentionsContext(body);
  readsContextCache.set(body, reads);
  return reads;
}

function mentionsContext(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(mentionsContext);
  if (node === null || typeof node !== 'object') return false;
  const n = node as { kind?: unknown; name?: unknown };
  if (n.kind === 'const') return false;
  if (n.kind === 'name' && typeof n.name === 'string' && CONTEXT_NAMES.has(n.name)) return true;
  return Object.values(node).some((v) => typeof v === 'object' && mentionsContext(v));
}

function isControl(e: unknown): boolean {
  return e === BREAK || e === CONTINUE || e instanceof MacroReturn;
}

/** A module from `{% import 'x' as m %}`: the template's top-level macros and variables. */
export class TemplateModule {
  [name: string]: unknown;
}

type BlockEntry = { file: string; body: Stmt[]; scoped: boolean };

/**
 * The `{% block %}`s of a template and the templates it extends: per name, the most derived
 * definition first (`super()` renders the next one).
 */
class BlockTable {
  readonly chains = new Map<string, BlockEntry[]>();

  /** Registers a template's blocks (nested ones too) after those of the templates extending it. */
  add(file: string, body: Stmt[]): void {
    if (!hasNamedBlocks(body)) return;
    for (const stmt of body) {
      if (stmt.kind === 'namedblock') {
        const chain = this.chains.get(stmt.name) ?? [];
        chain.push({ file, body: stmt.body, scoped: stmt.scoped });
        this.chains.set(stmt.name, chain);
      }
      for (const nested of childBodies(stmt)) this.add(file, nested);
    }
  }
}

const namedBlocksCache = new WeakMap<Stmt[], boolean>();

/** Whether a template body has `{% block %}`s anywhere (most templates have none: skip the walk). */
function hasNamedBlocks(body: Stmt[]): boolean {
  if (parsedWithoutBlocks(body)) return false;
  let has = namedBlocksCache.get(body);
  if (has === undefined) {
    has = body.some((stmt) => stmt.kind === 'namedblock' || childBodies(stmt).some(hasNamedBlocks));
    namedBlocksCache.set(body, has);
  }
  return has;
}

/** The statement lists directly inside a statement (where nested blocks can be). */
function childBodies(stmt: Stmt): Stmt[][] {
  switch (stmt.kind) {
    case 'if':
      return [...stmt.branches.map(([, body]) => body), ...(stmt.otherwise ? [stmt.otherwise] : [])];
    case 'for':
      return [stmt.body, ...(stmt.otherwise ? [stmt.otherwise] : [])];
    case 'with':
    case 'filterblock':
    case 'namedblock':
    case 'block':
      return [stmt.body];
    default:
      return [];
  }
}

/** Executes one template's statements; errors leave located at this file and a line. */
class Renderer {
  /** The blocks of the template being rendered and of those it extends. */
  private blocks = new BlockTable();
  /** The top frame of the template being rendered (blocks see it, not the locals around them). */
  private topFrame: Frame | undefined;
  /** Set by `{% extends %}`: the parent template and how much output came before the tag. */
  private parent: { template: Template; keep: number } | undefined;

  constructor(
    private readonly env: Environment,
    private readonly file: string,
  ) {}

  /**
   * Renders a whole template: a template that `extends` another contributes its blocks (and its
   * output before the tag), then the parent renders with them, as in Jinja2.
   */
  renderTemplate(body: Stmt[], frame: Frame, out: string[], blocks: BlockTable): void {
    blocks.add(this.file, body);
    this.blocks = blocks;
    this.topFrame = frame;
    if (blocks.chains.size > 0 && !frame.vars.has('self'))
      frame.vars.set('self', this.selfObject(blocks, frame));
    const own: string[] = [];
    this.exec(body, frame, own);
    this.returned = undefined;
    if (!this.parent) {
      out.push(...own);
      return;
    }
    out.push(...own.slice(0, this.parent.keep));
    const { template } = this.parent;
    new Renderer(this.env, template.file).renderTemplate(template.body, frame, out, blocks);
  }

  /** Jinja2's `self`: `self.<block>()` renders that block (of the whole chain, known once the parents register theirs). */
  private selfObject(blocks: BlockTable, frame: Frame): object {
    const render = (name: string) => pyFunction(name, () => this.renderBlock(name, 0, frame));
    return new Proxy(new TemplateModule(), {
      has: (_target, name) => typeof name === 'string' && blocks.chains.has(name),
      get: (target, name) =>
        typeof name === 'string' && blocks.chains.has(name) ? render(name) : Reflect.get(target, name),
    });
  }

  private renderBlock(name: string, depth: number, frame: Frame): string {
    const entry = this.blocks.chains.get(name)?.[depth];
    if (!entry) throw new PyError('TemplateRuntimeError', `there is no parent block called '${name}'.`);
    const renderer = new Renderer(this.env, entry.file);
    renderer.blocks = this.blocks;
    renderer.topFrame = this.topFrame;
    const blockFrame = new Frame(entry.scoped ? frame : (this.topFrame ?? frame));
    blockFrame.vars.set(
      'super',
      pyFunction('super', () => this.renderBlock(name, depth + 1, frame)),
    );
    const out: string[] = [];
    renderer.exec(entry.body, blockFrame, out);
    renderer.returned = undefined;
    return out.join('');
  }

  private loadTemplate(nameValue: unknown, ignoreMissing = false): Template | undefined {
    const names = Array.isArray(nameValue) ? nameValue : [nameValue];
    for (const n of names) {
      const found = this.env.getTemplate(pyStr(n));
      if (found) return found;
    }
    if (ignoreMissing) return undefined;
    throw new PyError('TemplateNotFound', names.map((n) => pyStr(n)).join(', '));
  }

  /** `{% import %}` / `{% from … import %}`: runs the template's top level, returns what it defines. */
  private importModule(nameValue: unknown, withContext: boolean, frame: Frame): TemplateModule {
    const template = this.loadTemplate(nameValue) as Template;
    const moduleFrame = withContext ? new Frame(frame) : new Frame(undefined, true);
    new Renderer(this.env, template.file).exec(template.body, moduleFrame, []);
    const module = new TemplateModule();
    for (const [k, v] of moduleFrame.vars) if (!k.startsWith('_')) module[k] = v;
    return module;
  }

  private execTemplateUse(
    stmt: Extract<Stmt, { kind: 'include' | 'import' | 'fromimport' | 'extends' | 'namedblock' }>,
    frame: Frame,
    out: string[],
  ): void {
    switch (stmt.kind) {
      case 'include': {
        const template = this.loadTemplate(this.eval(stmt.template, frame), stmt.ignoreMissing);
        if (!template) return;
        const inner = stmt.withContext ? new Frame(frame) : new Frame(undefined, true);
        new Renderer(this.env, template.file).renderTemplate(template.body, inner, out, new BlockTable());
        return;
      }
      case 'import':
        frame.vars.set(
          stmt.target,
          this.importModule(this.eval(stmt.template, frame), stmt.withContext, frame),
        );
        return;
      case 'fromimport': {
        const module = this.importModule(this.eval(stmt.template, frame), stmt.withContext, frame);
        for (const [name, alias] of stmt.names)
          frame.vars.set(alias, Object.hasOwn(module, name) ? module[name] : new Undefined(name));
        return;
      }
      case 'extends':
        if (this.parent) throw new PyError('TemplateRuntimeError', 'extended multiple times');
        this.parent = {
          template: this.loadTemplate(this.eval(stmt.template, frame)) as Template,
          keep: out.length,
        };
        return;
      case 'namedblock':
        // In a template that extends another, blocks only define: the parent places them.
        if (!this.parent) out.push(this.renderBlock(stmt.name, 0, frame));
        return;
    }
  }

  private locate(e: unknown, line: number): unknown {
    if (isControl(e)) return e;
    if (e instanceof TemplateError) {
      if (e.file === this.file) {
        if (e.line === undefined) e.line = line;
        return e;
      }
      return new TemplateError(
        e.code,
        `${e.message} (in ${e.file}${e.line ? `:${e.line}` : ''})`,
        this.file,
        line,
        { cause: e },
      );
    }
    const message = e instanceof Error ? e.message : String(e);
    const code = e instanceof PyError && e.pyType === 'CompilerError' ? 'COMPILER_ERROR' : 'TEMPLATE_RUNTIME';
    return new TemplateError(code, message, this.file, line, { cause: e });
  }

  /**
   * A `return(…)` in progress: the statement that called it caught the {@link MacroReturn}, and
   * every enclosing `exec` up to the macro call stops on this flag instead of rethrowing (a throw
   * through each nested block costs far more, and dbt macros return through dispatch at every call).
   */
  private returned: MacroReturn | undefined;

  exec(body: Stmt[], frame: Frame, out: string[]): void {
    // Indexed loops and no destructuring on the paths every render takes: until the JIT has
    // compiled them (most of a cold compile), iterator-protocol calls are a large part of the cost.
    for (let i = 0; i < body.length; i++) {
      const stmt = body[i] as Stmt;
      if (stmt.kind === 'data') {
        out.push(stmt.text);
        continue;
      }
      try {
        this.execOne(stmt, frame, out);
      } catch (e) {
        if (e instanceof MacroReturn) {
          this.returned = e;
          return;
        }
        throw this.locate(e, stmt.line);
      }
      if (this.returned) return;
    }
  }

  /** Runs a macro body: its output, or the value it `return`ed. */
  private execMacroBody(body: Stmt[], frame: Frame): unknown {
    const out: string[] = [];
    this.exec(body, frame, out);
    const returned = this.returned;
    if (returned) {
      this.returned = undefined;
      return returned.value;
    }
    return out.join('');
  }

  private execOne(stmt: Stmt, frame: Frame, out: string[]): void {
    switch (stmt.kind) {
      case 'data':
        out.push(stmt.text);
        return;
      case 'print':
        if (this.returnStatement(stmt.expr, frame)) return;
        out.push(pyStr(this.eval(stmt.expr, frame)));
        return;
      case 'if':
        for (let i = 0; i < stmt.branches.length; i++) {
          const branch = stmt.branches[i] as [Expr, Stmt[]];
          if (truthy(this.eval(branch[0], frame))) {
            this.exec(branch[1], frame, out);
            return;
          }
        }
        if (stmt.otherwise) this.exec(stmt.otherwise, frame, out);
        return;
      case 'for':
        this.execFor(stmt, frame, out);
        return;
      case 'set':
        this.assign(stmt.target, this.eval(stmt.value, frame), frame);
        return;
      case 'setblock':
        this.assign(stmt.target, this.filtered(stmt.filters, this.capture(stmt.body, frame), frame), frame);
        return;
      case 'macro':
        frame.vars.set(stmt.name, this.macro(stmt.name, stmt.params, stmt.body, frame));
        return;
      case 'callblock': {
        const caller = this.macro('caller', stmt.params, stmt.body, frame);
        out.push(pyStr(this.evalCall(stmt.call as Extract<Expr, { kind: 'call' }>, frame, caller)));
        return;
      }
      case 'filterblock':
        out.push(pyStr(this.filtered(stmt.filters, this.capture(stmt.body, frame), frame)));
        return;
      case 'with': {
        const inner = new Frame(frame);
        const values = stmt.assignments.map(([t, e]) => [t, this.eval(e, frame)] as const);
        for (const [t, v] of values) this.assign(t, v, inner);
        this.exec(stmt.body, inner, out);
        return;
      }
      case 'do':
        if (this.returnStatement(stmt.expr, frame)) return;
        this.eval(stmt.expr, frame);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'block':
        this.exec(stmt.body, frame, out);
        return;
      case 'include':
      case 'import':
      case 'fromimport':
      case 'extends':
      case 'namedblock':
        this.execTemplateUse(stmt, frame, out);
        return;
    }
  }

  /**
   * `{{ return(x) }}` / `{% do return(x) %}` with the global `return`: sets {@link returned}
   * without throwing (the throw is what `return` does anywhere else, e.g. inside an expression).
   */
  private returnStatement(expr: Expr, frame: Frame): boolean {
    if (expr.kind !== 'call' || expr.fn.kind !== 'name' || expr.fn.name !== 'return') return false;
    if (expr.args.length !== 1 || expr.kwargs.length > 0 || expr.starArgs || expr.starKwargs) return false;
    const fn = this.lookup('return', frame);
    if (fn !== this.env.globals.get('return') || !this.env.globals.has('return')) return false;
    this.returned = new MacroReturn(this.eval(expr.args[0] as Expr, frame));
    return true;
  }

  private capture(body: Stmt[], frame: Frame): string {
    const out: string[] = [];
    this.exec(body, frame, out);
    return out.join('');
  }

  private filtered(filters: Expr[], value: string, frame: Frame): unknown {
    if (!filters.length) return value;
    const inner = new Frame(frame);
    inner.vars.set(BODY_VAR, value);
    return this.eval(filters[0] as Expr, inner);
  }

  private execFor(stmt: Extract<Stmt, { kind: 'for' }>, frame: Frame, out: string[]): void {
    const loopFrame = new Frame(frame);
    let items = [...pyIter(this.eval(stmt.iter, frame))];
    if (stmt.filter) {
      const filter = stmt.filter;
      items = items.filter((item) => {
        this.assign(stmt.target, item, loopFrame);
        return truthy(this.eval(filter, loopFrame));
      });
    }
    if (!items.length) {
      if (stmt.otherwise) this.exec(stmt.otherwise, frame, out);
      return;
    }
    const loop = new LoopContext(items);
    for (let i = 0; i < items.length; i++) {
      loop.index0 = i;
      // Each iteration is a fresh scope: a `set` in the body is not seen by the next iteration.
      const iterationFrame = new Frame(frame);
      this.assign(stmt.target, items[i], iterationFrame);
      iterationFrame.vars.set('loop', loop);
      try {
        this.exec(stmt.body, iterationFrame, out);
      } catch (e) {
        if (e === BREAK) break;
        if (e === CONTINUE) continue;
        throw e;
      }
      if (this.returned) return;
    }
  }

  private assign(target: Target, value: unknown, frame: Frame): void {
    if (target.kind === 'name') {
      frame.vars.set(target.name, value);
      return;
    }
    if (target.kind === 'nsattr') {
      const ns = this.lookup(target.name, frame);
      if (!(ns instanceof Namespace))
        throw new PyError('TemplateRuntimeError', 'cannot assign attribute on non-namespace object');
      ns[target.attr] = value;
      return;
    }
    const items = pyIter(value);
    if (items.length !== target.items.length) {
      throw new PyError(
        'ValueError',
        items.length > target.items.length
          ? `too many values to unpack (expected ${target.items.length})`
          : `not enough values to unpack (expected ${target.items.length}, got ${items.length})`,
      );
    }
    target.items.forEach((t, i) => {
      this.assign(t, items[i], frame);
    });
  }

  private lookup(name: string, frame: Frame): unknown {
    let isolated = false;
    for (let f: Frame | undefined = frame; f; f = f.parent) {
      if (f.vars.has(name)) return f.vars.get(name);
      isolated = f.isolated;
    }
    if (isolated) return this.env.globals.has(name) ? this.env.globals.get(name) : new Undefined(name);
    return this.env.resolve(name);
  }

  private macro(name: string, params: MacroParam[], body: Stmt[], closure: Frame): PyCallable {
    // Looked up at the first call: most macros a package defines are never called.
    let readsContext: boolean | undefined;
    const isParam = (key: string) => params.some((p) => p.name === key);
    const fn = pyFunction(name, (args, kwargs) => {
      readsContext ??= bodyReadsContext(body);
      if (readsContext) this.env.onContextRead?.();
      const frame = new Frame(closure);
      for (let i = 0; i < params.length; i++) {
        const p = params[i] as MacroParam;
        let v: unknown;
        if (i < args.length) v = args[i];
        else if (p.name in kwargs) v = kwargs[p.name];
        else v = p.default ? this.eval(p.default, frame) : new Undefined(p.name);
        frame.vars.set(p.name, v);
      }
      // What no parameter took: `caller`, then `kwargs` (in the order given) and `varargs`.
      const extra = new Map<string, unknown>();
      for (const key of Object.keys(kwargs)) if (!isParam(key)) extra.set(key, kwargs[key]);
      if (extra.has('caller')) {
        frame.vars.set('caller', extra.get('caller'));
        extra.delete('caller');
      }
      frame.vars.set('varargs', toTuple(args.length > params.length ? args.slice(params.length) : []));
      frame.vars.set('kwargs', extra);
      return this.execMacroBody(body, frame);
    });
    return fn;
  }

  eval(expr: Expr, frame: Frame): unknown {
    switch (expr.kind) {
      case 'const':
        return expr.value;
      case 'name':
        return this.lookup(expr.name, frame);
      case 'list': {
        const items: unknown[] = [];
        for (let i = 0; i < expr.items.length; i++) items.push(this.eval(expr.items[i] as Expr, frame));
        return items;
      }
      case 'tuple':
        return toTuple(expr.items.map((e) => this.eval(e, frame)));
      case 'dict': {
        const m = new Map<unknown, unknown>();
        for (const [k, v] of expr.pairs) m.set(dictKey(this.eval(k, frame)), this.eval(v, frame));
        return m;
      }
      case 'getattr': {
        const obj = this.eval(expr.obj, frame);
        return this.missingAgain(obj, expr.attr) ?? getattr(obj, expr.attr);
      }
      case 'getitem': {
        const obj = this.eval(expr.obj, frame);
        const missing = this.missingAgain(obj, '[]');
        if (missing) return missing;
        if (expr.key.kind === 'slice') {
          const k = expr.key;
          const part = (e: Expr | undefined) => (e ? this.eval(e, frame) : undefined);
          if (isUndefined(obj)) throw undefinedError(obj);
          return slice(obj, part(k.start), part(k.stop), part(k.step));
        }
        return getitem(obj, this.eval(expr.key, frame));
      }
      case 'slice':
        throw new PyError('TypeError', 'slice outside a subscript');
      case 'call':
        return this.evalCall(expr, frame, undefined);
      case 'filter': {
        const value = this.eval(expr.node, frame);
        const [args, kwargs] = this.args(expr, frame);
        return this.env.applyFilter(expr.name, value, args, kwargs);
      }
      case 'test': {
        const value = this.eval(expr.node, frame);
        const [args] = this.args(expr, frame);
        return this.env.applyTest(expr.name, value, args) !== expr.negated;
      }
      case 'unary': {
        const v = this.eval(expr.node, frame);
        if (expr.op === 'not') return !truthy(v);
        return unaryOp(expr.op, v);
      }
      case 'binary': {
        const left = this.eval(expr.left, frame);
        if (expr.op === 'and') return truthy(left) ? this.eval(expr.right, frame) : left;
        if (expr.op === 'or') return truthy(left) ? left : this.eval(expr.right, frame);
        return binaryOp(expr.op, this.defined(left), this.defined(this.eval(expr.right, frame)));
      }
      case 'compare': {
        let left = this.eval(expr.first, frame);
        for (let i = 0; i < expr.ops.length; i++) {
          const op = expr.ops[i] as [string, Expr];
          const right = this.eval(op[1], frame);
          if (!compareOp(op[0], left, right, this.definedCompare)) return false;
          left = right;
        }
        return true;
      }
      case 'concat': {
        const items: unknown[] = [];
        for (let i = 0; i < expr.items.length; i++) items.push(this.eval(expr.items[i] as Expr, frame));
        return concatOp(items);
      }
      case 'cond':
        if (truthy(this.eval(expr.test, frame))) return this.eval(expr.value, frame);
        return expr.otherwise ? this.eval(expr.otherwise, frame) : new Undefined('');
    }
  }

  private readonly definedCompare = (a: unknown, b: unknown) => pyCompare(this.defined(a), this.defined(b));
  /** See {@link Environment.lenientMissing}: an Undefined that a lookup on a real value produced, chained. */
  private missingAgain(obj: unknown, name: string): Undefined | undefined {
    if (!(obj instanceof Undefined) || obj.owner === undefined || !this.env.lenientMissing?.())
      return undefined;
    return new Undefined(name, obj);
  }

  private defined(v: unknown): unknown {
    if (isUndefined(v)) throw undefinedError(v);
    return v;
  }

  private args(call: CallArgs, frame: Frame): [unknown[], Record<string, unknown>] {
    const args: unknown[] = [];
    for (let i = 0; i < call.args.length; i++) args.push(this.eval(call.args[i] as Expr, frame));
    if (call.starArgs) args.push(...pyIter(this.eval(call.starArgs, frame)));
    const kwargs: Record<string, unknown> = {};
    for (let i = 0; i < call.kwargs.length; i++) {
      const kwarg = call.kwargs[i] as [string, Expr];
      kwargs[kwarg[0]] = this.eval(kwarg[1], frame);
    }
    if (call.starKwargs) {
      const extra = this.eval(call.starKwargs, frame);
      if (isMapping(extra)) for (const [k, v] of dictEntries(extra)) kwargs[String(k)] = v;
    }
    return [args, kwargs];
  }

  private evalCall(
    expr: Extract<Expr, { kind: 'call' }>,
    frame: Frame,
    caller: PyCallable | undefined,
  ): unknown {
    const fn = this.eval(expr.fn, frame);
    const [args, kwargs] = this.args(expr, frame);
    if (caller) kwargs.caller = caller;
    const missing = this.missingAgain(fn, '()');
    if (missing) return missing;
    if (isUndefined(fn)) throw undefinedError(fn);
    return callValue(fn, args, kwargs);
  }
}
