import { macroChecksum } from '../checksums.js';
import type { GraphMacro, GraphNode } from '../graph.js';
import type { Expr, Stmt } from '../jinja/ast.js';

/** A macro as a macro file defines it: its package (the root project when absent) and its AST. */
export interface MacroDefinition {
  name: string;
  packageName?: string;
  file: string;
  stmt: Extract<Stmt, { kind: 'macro' }>;
}

/** The macro calls a template makes, read from its AST (every branch, as dbt's static extraction). */
export interface MacroCalls {
  /** `name(…)`. */
  names: Set<string>;
  /** `package.name(…)`. */
  qualified: Set<string>;
  /** `adapter.dispatch('name', 'namespace')`: the name and the namespace when it is a literal. */
  dispatched: Array<[string, string | undefined]>;
}

const literal = (e: Expr | undefined): string | undefined =>
  e?.kind === 'const' && typeof e.value === 'string' ? e.value : undefined;

function visit(node: unknown, calls: MacroCalls): void {
  if (Array.isArray(node)) {
    for (const n of node) visit(n, calls);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const n = node as { kind?: unknown };
  // Text and constants hold no calls (and a constant's value may be a host object).
  if (n.kind === 'data' || n.kind === 'const') return;
  if (n.kind === 'call') recordCall(node as Extract<Expr, { kind: 'call' }>, calls);
  for (const key in node) {
    const v = (node as Record<string, unknown>)[key];
    if (v !== null && typeof v === 'object') visit(v, calls);
  }
}

function recordCall({ fn, args, kwargs }: Extract<Expr, { kind: 'call' }>, calls: MacroCalls): void {
  if (fn.kind === 'name') calls.names.add(fn.name);
  else if (fn.kind === 'getattr' && fn.obj.kind === 'name') {
    if (fn.obj.name === 'adapter' && fn.attr === 'dispatch') {
      const name = literal(args[0]) ?? literal(kwargs.find(([k]) => k === 'macro_name')?.[1]);
      const ns = literal(args[1]) ?? literal(kwargs.find(([k]) => k === 'macro_namespace')?.[1]);
      if (name) calls.dispatched.push([name, ns]);
    } else calls.qualified.add(`${fn.obj.name}.${fn.attr}`);
  }
}

/**
 * The macro calls in a template body. Pure.
 *
 * @example
 * macroCalls(env.parse("{{ cents(1) }} {{ dbt_utils.star(x) }}", 'm.sql').body).names; // Set { 'cents' }
 */
export function macroCalls(body: readonly Stmt[]): MacroCalls {
  const calls: MacroCalls = { names: new Set(), qualified: new Set(), dispatched: [] };
  visit(body, calls);
  return calls;
}

/** Resolves calls to macro unique ids (`macro.<package>.<name>`) over the project's macros. */
export class MacroTable {
  private readonly byId = new Map<string, MacroDefinition & { packageName: string }>();
  /** Package → test name → what its `test_<name>` call resolves to. */
  private readonly testCache = new Map<string, Map<string, string[]>>();

  constructor(
    definitions: readonly MacroDefinition[],
    private readonly rootProject: string,
  ) {
    for (const d of definitions) {
      const packageName = d.packageName ?? rootProject;
      this.byId.set(`macro.${packageName}.${d.name}`, { ...d, packageName });
    }
  }

  /**
   * The macros that calls made from `fromPackage` may reach: an unqualified name in the root
   * project or the caller's package, `pkg.name` in that package, and every candidate a literal
   * dispatch may pick (`postgres__` / `default__` in the root project, the namespace, the caller's
   * package). Over-approximates, as dbt's static extraction does.
   */
  resolve(calls: MacroCalls, fromPackage: string): string[] {
    const out = new Set<string>();
    const add = (pkg: string, name: string): void => {
      const id = `macro.${pkg}.${name}`;
      if (this.byId.has(id)) out.add(id);
    };
    for (const name of calls.names) {
      add(this.rootProject, name);
      if (fromPackage !== this.rootProject) add(fromPackage, name);
    }
    for (const q of calls.qualified) {
      const dot = q.indexOf('.');
      add(q.slice(0, dot), q.slice(dot + 1));
    }
    for (const [name, ns] of calls.dispatched) {
      const packages = new Set([this.rootProject, fromPackage, ...(ns ? [ns] : [])]);
      for (const pkg of packages)
        for (const prefix of ['postgres__', 'default__', '']) add(pkg, `${prefix}${name}`);
    }
    return out.size === 0 ? [] : out.size === 1 ? [...out] : [...out].sort();
  }

  /** {@link resolve} of a generic test's one call, `test_<name>`, once per test name and package. */
  resolveTest(testName: string, fromPackage: string): string[] {
    let byName = this.testCache.get(fromPackage);
    if (!byName) {
      byName = new Map();
      this.testCache.set(fromPackage, byName);
    }
    let ids = byName.get(testName);
    if (!ids) {
      const calls = { names: new Set([`test_${testName}`]), qualified: new Set<string>(), dispatched: [] };
      ids = this.resolve(calls, fromPackage);
      byName.set(testName, ids);
    }
    return ids.length === 0 ? ids : ids.slice();
  }

  /**
   * The macros reachable from `roots` (the nodes' direct calls), each with its checksum and the
   * macros it calls, for the graph and the manifest. Macros no node reaches are left out: they
   * cannot make a node modified, and a package's hundred others are not hashed on every compile.
   */
  graphMacros(roots: Iterable<string>): Record<string, GraphMacro> {
    const found = new Map<string, GraphMacro>();
    const stack = [...roots];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      const d = this.byId.get(id);
      if (!d || found.has(id)) continue;
      const macros = this.resolve(macroCalls(d.stmt.body), d.packageName).filter((m) => m !== id);
      found.set(id, {
        name: d.name,
        packageName: d.packageName,
        file: d.file,
        checksum: macroChecksum(d.stmt),
        macros,
      });
      stack.push(...macros);
    }
    return Object.fromEntries([...found].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}

/**
 * The macros a node depends on, directly and through the macros they call. Pure.
 *
 * @example
 * macroClosure(['macro.shop.cents'], graph.macros ?? {}); // ['macro.shop.cents', 'macro.shop.round2']
 */
export function macroClosure(
  direct: readonly string[],
  macros: Readonly<Record<string, GraphMacro>>,
): string[] {
  const seen = new Set<string>();
  const stack = [...direct];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(macros[id]?.macros ?? []));
  }
  return [...seen].sort();
}

/** What {@link macroDependencies} gives: the graph's macros and each node's direct macro calls. */
export interface MacroDependencies {
  macros: Record<string, GraphMacro>;
  /** Nodes that call at least one project or package macro: unique id → macro ids. */
  nodeMacros: Record<string, string[]>;
}

/**
 * The macros of the project and its packages that nodes reach, and which of them each model,
 * snapshot and generic test calls (its template read statically; a generic test calls its `test_<name>` macro). Macros
 * built into dataflow's `dbt` namespace are not listed: they change with dataflow, not the project.
 *
 * @example
 * const { macros, nodeMacros } = macroDependencies(jinja.env, jinja.macroDefinitions, 'shop', nodes);
 */
export function macroDependencies(
  parser: { parse(source: string, file: string): { body: Stmt[] } },
  definitions: readonly MacroDefinition[],
  rootProject: string,
  nodes: Readonly<Record<string, GraphNode>>,
): MacroDependencies {
  const table = new MacroTable(definitions, rootProject);
  const nodeMacros: Record<string, string[]> = {};
  if (definitions.length === 0) return { macros: {}, nodeMacros };
  for (const id in nodes) {
    const node = nodes[id] as GraphNode;
    let macros: string[] = [];
    if ((node.resourceType === 'model' || node.resourceType === 'snapshot') && node.rawSql !== undefined) {
      try {
        macros = table.resolve(macroCalls(parser.parse(node.rawSql, node.file ?? id).body), node.packageName);
      } catch {
        // A template that does not parse was reported by the compile; it calls nothing here.
      }
    } else if (node.resourceType === 'test' && node.testKind === 'generic')
      macros = table.resolveTest(String(node.compiled.test), node.packageName);
    if (macros.length > 0) nodeMacros[id] = macros;
  }
  return { macros: table.graphMacros(Object.values(nodeMacros).flat()), nodeMacros };
}
