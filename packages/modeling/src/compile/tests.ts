import { hash } from 'node:crypto';
import {
  type CompiledTest,
  compileGenericTest,
  compileSingularTest,
  createTestRegistry,
  defaultTestAlias,
  defaultTestName,
  type GenericTestInvocation,
  parseTestConfig,
  QualityError,
  storesFailuresAs,
  type TestConfig,
  type TestRegistry,
} from '@dataflow/quality';
import { type GraphNode, RELATION_PLACEHOLDER, type RelationInfo, type TestNode } from '../graph.js';
import { DbtRelation } from '../introspection/relation.js';
import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { TestDeclaration } from '../schema-yml.js';
import type { CompileContext } from './context.js';
import type { ProjectInputs, SingularSource } from './inputs.js';
import type { Linker } from './link.js';
import { isEnabled } from './model-config.js';
import { checkIdentifierLength } from './names.js';
import { nodeRelation } from './relation-names.js';
import type { SourceTable } from './sources.js';
import { renderYamlValue, type YamlSite } from './yaml-jinja.js';

class UnknownReferenceError extends Error {
  constructor(
    readonly code: 'UNKNOWN_REF' | 'UNKNOWN_SOURCE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Resolves `ref('x')`, `source('a','b')` or a bare name used inside a test and records the nodes
 * it reads in `deps`; with `self`, the tested node renders as `selfSql` (default
 * {@link RELATION_PLACEHOLDER}: a test that refers back to its own model must see the version
 * under test, the temp one during write-audit-publish). `named` collects the nodes the test names
 * (without those sharing their relation): what a singular test is attached to.
 */
export function testResolver(
  linker: Linker,
  deps: Set<string>,
  self?: string,
  named?: Set<string>,
  selfSql: string = RELATION_PLACEHOLDER,
): (expr: string) => string {
  return (expr) => {
    const srcM = /^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$/.exec(expr);
    if (srcM) {
      const r = linker.source(srcM[1] as string, srcM[2] as string);
      if (!r)
        throw new UnknownReferenceError(
          'UNKNOWN_SOURCE',
          `source('${srcM[1]}', '${srcM[2]}') is not declared`,
        );
      for (const id of r.nodeIds) deps.add(id);
      named?.add(r.nodeIds[0] as string);
      return r.relation.sql;
    }
    const refM = /^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$/.exec(expr);
    const name = refM ? ((refM[2] ?? refM[1]) as string) : expr.trim();
    const r = linker.ref(name);
    if (!r) throw new UnknownReferenceError('UNKNOWN_REF', `${name} is not a model, seed or loaded relation`);
    for (const id of r.nodeIds) deps.add(id);
    if (r.nodeIds[0] !== undefined) named?.add(r.nodeIds[0]);
    if (self && r.nodeIds[0] === self) return selfSql;
    return r.relation.sql;
  };
}

/**
 * The project's generic test macros (`{% test %}`) on top of the built-in tests. A namespaced name
 * (`dbt_utils.equality`) finds the package's macro by its own name; without one, the built-in
 * the namespace aliases (`dbt_utils.expression_is_true`).
 */
export function testRegistry(ctx: CompileContext): TestRegistry {
  const registry = macroRegistry(ctx);
  const bare = (name: string) => name.slice(name.lastIndexOf('.') + 1);
  const lookup = (name: string) =>
    ctx.jinja.testMacros.has(bare(name))
      ? registry.lookup(bare(name))
      : (registry.lookup(name) ?? registry.lookup(bare(name)));
  return { ...registry, lookup, has: (name) => lookup(name) !== undefined };
}

function macroRegistry(ctx: CompileContext): TestRegistry {
  const registry = createTestRegistry();
  for (const name of ctx.jinja.testMacros.keys()) {
    registry.define(name, ({ relation, column, args, resolve, configure }) =>
      ctx.jinja.callTestMacro(
        name,
        {
          ref: (n) => resolve(n),
          source: (s, t) => resolve(`source('${s}', '${t}')`),
          // dbt keeps what a test macro's `config(...)` sets (e.g. dbt_utils.equality's fail_calc).
          config: (values) => configure?.(values),
          var: ctx.var,
          thisRelation: relation,
          isIncremental: false,
        },
        relation,
        column,
        relationArgs(args, resolve),
      ),
    );
  }
  return registry;
}

const REFERENCE_ARG = /^\s*(?:ref|source)\(\s*['"][^'"]+['"]\s*(?:,\s*['"][^'"]+['"]\s*)?\)\s*$/;

/**
 * dbt renders a test's arguments as Jinja, so `compare_model: ref('b')` reaches the macro as a
 * Relation (what `dbt_utils._is_relation` checks) and the test depends on `b`. An argument that is
 * exactly a `ref()` / `source()` call (alone or in a list) becomes that relation; others stay as given.
 */
export function relationArgs(
  args: Record<string, unknown>,
  resolve: (expr: string) => string,
): Record<string, unknown> {
  const one = (value: unknown): unknown =>
    typeof value === 'string' && REFERENCE_ARG.test(value) ? DbtRelation.fromSql(resolve(value)) : value;
  return Object.fromEntries(
    Object.entries(args).map(([key, value]) => [key, Array.isArray(value) ? value.map(one) : one(value)]),
  );
}

// One-shot `hash` (Node ≥ 20.12): no Hash object per test, a third of the cost of `createHash`.
const shortHash = (value: unknown) => hash('md5', JSON.stringify(value), 'hex').slice(0, 10);

/**
 * dbt's relation for a test's failing rows when it stores them: the schema of
 * `generate_schema_name(config.schema ?? 'dbt_test__audit')` (`<target_schema>_dbt_test__audit`
 * by default), the identifier of `generate_alias_name(config.alias)`, the test's alias by default.
 */
function withStoredFailures(
  ctx: CompileContext,
  compiled: CompiledTest,
  raw: Record<string, unknown>,
  file: string | undefined,
): CompiledTest {
  const kind = storesFailuresAs(compiled.config);
  if (kind === undefined) return compiled;
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  const relation = nodeRelation(ctx, {
    name: compiled.name,
    resourceType: 'test',
    packageName: undefined,
    fqn: [ctx.projectName, compiled.name],
    ...(file ? { file } : {}),
    config: {
      schema: text(raw.schema) ?? 'dbt_test__audit',
      alias: text(raw.alias) ?? compiled.alias ?? compiled.name,
    },
  });
  checkIdentifierLength(ctx, relation.identifier, `test ${compiled.name}`, file);
  checkIdentifierLength(ctx, relation.schema, `test ${compiled.name}`, file);
  return { ...compiled, storeFailuresIn: { schema: relation.schema, identifier: relation.identifier, kind } };
}

/** What a compiled test is attached to. */
interface Attached {
  uniqueId: string;
  name: string;
  relation: RelationInfo;
}

/** Everything test compilation reads. */
export interface TestCompileInput {
  inputs: Pick<ProjectInputs, 'models' | 'seeds' | 'sources' | 'singular'> &
    Partial<Pick<ProjectInputs, 'snapshots' | 'testConfigLayers'>>;
  /** Model and seed nodes compiled so far. */
  nodes: Readonly<Record<string, GraphNode>>;
  sources: SourceTable;
  linker: Linker;
}

/**
 * A generic test whose Jinja needs the warehouse: its body rendered nothing with `execute` false
 * (dbt_utils' `equality` returns `''` until it can ask for columns), so its node's
 * `compiled.pending` is true and the build renders it again, as dbt compiles a test at run time.
 */
export interface PendingTest {
  name: string;
  file?: string;
  /** Quoted SQL of the tested node's published relation. */
  relation: string;
  /**
   * The test with the tested node rendered as `relationSql` (the published relation, or the temp
   * one of write-audit-publish). Call inside an `execute`-true render; throws what
   * `compileGenericTest` throws (`rendered no SQL` when it still renders nothing).
   */
  render(relationSql: string): CompiledTest;
}

/** What the test phase gives: the test nodes, and how to render the pending ones at build time. */
export interface CompiledTests {
  nodes: TestNode[];
  /** Test unique id → its build-time render, for the nodes whose `compiled.pending` is true. */
  pending: Map<string, PendingTest>;
}

/**
 * Test phase: generic tests declared on models, seeds and sources, then singular tests. Unique ids
 * are `test.<project>.<name>.<hash of what the test is>`, stable across compiles.
 *
 * @example
 * const { nodes, pending } = compileTests(ctx, { inputs, nodes: built, sources, linker });
 */
export function compileTests(ctx: CompileContext, input: TestCompileInput): CompiledTests {
  const { inputs, nodes, sources, linker } = input;
  const out: TestNode[] = [];
  const pending = new Map<string, PendingTest>();
  const ids = new Set<string>();
  const add = (node: Omit<TestNode, 'uniqueId'>, identity: unknown) => {
    let uniqueId = `test.${ctx.projectName}.${node.name}.${shortHash(identity)}`;
    while (ids.has(uniqueId)) uniqueId += '_';
    ids.add(uniqueId);
    out.push({ ...node, uniqueId } as TestNode);
    return uniqueId;
  };
  const registry = testRegistry(ctx);
  const generic = (
    decl: TestDeclaration,
    attached: Attached,
    file?: string,
    targetType?: 'model' | 'source',
  ) => {
    const compiled = compileGenericTestNode(ctx, {
      decl,
      attached,
      registry,
      linker,
      targetType,
      ...(file ? { file, projectLayers: inputs.testConfigLayers?.(file) ?? [] } : {}),
    });
    if (!compiled) return;
    const uniqueId = add(compiled.node, [attached.uniqueId, decl]);
    if (compiled.pending) pending.set(uniqueId, compiled.pending);
  };
  for (const src of inputs.models) {
    const node = nodes[`model.${ctx.projectName}.${src.name}`];
    if (node?.resourceType === 'model')
      for (const d of src.tests) generic(d, node, src.testsFile ?? src.file);
  }
  for (const seed of inputs.seeds) {
    const node = nodes[`seed.${ctx.projectName}.${seed.name}`];
    if (node?.resourceType === 'seed')
      for (const d of seed.tests) generic(d, node, seed.testsFile ?? seed.file);
  }
  for (const snapshot of inputs.snapshots ?? []) {
    const node = nodes[`snapshot.${ctx.projectName}.${snapshot.name}`];
    if (node?.resourceType === 'snapshot')
      for (const d of snapshot.tests) generic(d, node, snapshot.testsFile ?? snapshot.file);
  }
  for (const s of inputs.sources) {
    const node = sources.get(`${s.sourceName}.${s.name}`);
    if (!node) continue;
    for (const d of s.tests) generic(d, { ...node, name: `${s.sourceName}_${s.name}` }, s.file, 'source');
  }
  for (const t of inputs.singular) {
    const layers = t.file ? (inputs.testConfigLayers?.(t.file) ?? []) : [];
    const node = compileSingularTestNode(ctx, t, nodes, linker, layers);
    if (node) add(node, [t.name, t.file]);
  }
  return { nodes: out, pending };
}

const NAMES_RELATION = /\b(?:ref|source)\s*\(/;

/**
 * A test declaration as dbt reads it: Jinja in its config (`severity: "{{ 'warn' if … }}"`,
 * `enabled`, `where`) and in its arguments (`values: "{{ var('types') }}"` → a list) rendered
 * natively. Arguments naming `ref()` / `source()` are left to the relation resolver.
 */
function renderedDeclaration(ctx: CompileContext, decl: TestDeclaration, site: YamlSite): TestDeclaration {
  const args = Object.fromEntries(
    Object.entries(decl.args).map(([k, v]) => [
      k,
      typeof v === 'string' && NAMES_RELATION.test(v) ? v : renderYamlValue(ctx, v, site),
    ]),
  );
  return { ...decl, args, config: renderYamlValue(ctx, decl.config, site) as Record<string, unknown> };
}

/** `: <why>` when a test failed to render because its template raised (the template's own message). */
function causeText(error: unknown): string {
  const cause = (error as Error).cause;
  if (!(cause instanceof Error) || cause instanceof QualityError) return '';
  return `: ${templateProblem(cause, '').message.split('\n')[0]}`;
}

/**
 * One generic test declaration compiled against the node it is attached to (undefined: reported or
 * disabled), with its build-time render when its body needs the warehouse.
 */
export function compileGenericTestNode(
  ctx: CompileContext,
  args: {
    decl: TestDeclaration;
    attached: Attached;
    file?: string;
    targetType?: 'model' | 'source' | undefined;
    registry: TestRegistry;
    linker: Linker;
    /** The project's `data_tests:` folder config for the declaring file, outermost first. */
    projectLayers?: ConfigLayer[];
  },
): { node: Omit<TestNode, 'uniqueId'>; pending?: PendingTest } | undefined {
  const { attached, file, registry } = args;
  const decl = renderedDeclaration(ctx, args.decl, {
    packageName: undefined,
    file: file ?? attached.name,
    node: attached.name,
  });
  const project: Record<string, unknown> = Object.assign({}, ...(args.projectLayers ?? []));
  if (!isEnabled(decl.config.enabled ?? project.enabled)) return undefined;
  const report = ctx.diagnostics.at(attached.name, file);
  const deps = new Set<string>([attached.uniqueId]);
  const resolve = testResolver(args.linker, deps, attached.uniqueId);
  let compiled: CompiledTest;
  let inv: GenericTestInvocation;
  let projectConfig: TestConfig;
  try {
    const config: TestConfig = parseTestConfig(decl.config);
    inv = {
      test: decl.test,
      model: attached.name,
      ...(decl.column !== undefined ? { column: decl.column } : {}),
      args: decl.args,
      config,
      targetType: args.targetType ?? 'model',
    };
    projectConfig = parseTestConfig(project);
    compiled = compileGenericTest(inv, { relation: RELATION_PLACEHOLDER, resolve }, registry, {
      whenEmpty: 'pending',
      projectConfig,
    });
    // Named from the arguments as written, as dbt names tests (not from their rendered values).
    if (args.decl.args !== decl.args) {
      const written = { ...inv, args: args.decl.args };
      compiled = { ...compiled, name: defaultTestName(written), alias: defaultTestAlias(written) };
    }
    const names = Object.fromEntries(
      Object.entries(decl.args).filter(([k]) => k === 'schema' || k === 'alias'),
    );
    compiled = withStoredFailures(ctx, compiled, { ...project, ...names, ...decl.config }, file);
  } catch (error) {
    const unknownRef = error instanceof UnknownReferenceError ? error : (error as Error).cause;
    const label = `test ${decl.test} on ${attached.name}${decl.column ? `.${decl.column}` : ''}`;
    if (unknownRef instanceof UnknownReferenceError)
      report.error(unknownRef.code, `${label}: ${unknownRef.message}`);
    else
      report.error(
        error instanceof QualityError && error.code === 'UNKNOWN_TEST' ? 'UNKNOWN_TEST' : 'CONFIG_ERROR',
        `${label}: ${(error as Error).message}${causeText(error)}`,
      );
    return undefined;
  }
  const node: Omit<TestNode, 'uniqueId'> = {
    name: compiled.name,
    resourceType: 'test',
    packageName: ctx.projectName,
    ...(file ? { file } : {}),
    fqn: [ctx.projectName, compiled.name],
    tags: [],
    dependsOn: [...deps],
    testKind: 'generic',
    attachedNode: attached.uniqueId,
    ...(decl.column !== undefined ? { columnName: decl.column } : {}),
    severity: compiled.severity,
    compiled: { ...compiled, sql: compiled.sql.split(RELATION_PLACEHOLDER).join(attached.relation.sql) },
    ...(compiled.pending ? {} : { sqlTemplate: compiled.sql }),
  };
  if (!compiled.pending) return { node };
  const invocation = inv;
  const options = { projectConfig };
  const { storeFailuresIn } = compiled;
  const pending: PendingTest = {
    name: compiled.name,
    ...(file ? { file } : {}),
    relation: attached.relation.sql,
    render: (relationSql) => {
      const selfAs = testResolver(args.linker, new Set(), attached.uniqueId, undefined, relationSql);
      const test = compileGenericTest(
        invocation,
        { relation: relationSql, resolve: selfAs },
        registry,
        options,
      );
      return storeFailuresIn ? { ...test, storeFailuresIn } : test;
    },
  };
  return { node, pending };
}

/**
 * One singular test. A test of exactly one model / seed is rendered again with that node's
 * `ref()` as the placeholder token, so the run can point it at the temp relation (or the
 * published one) by replacing the token: never by searching the SQL for a relation name.
 */
export function compileSingularTestNode(
  ctx: CompileContext,
  t: SingularSource,
  nodes: Readonly<Record<string, GraphNode>>,
  linker: Linker,
  projectLayers: ConfigLayer[] = [],
): Omit<TestNode, 'uniqueId'> | undefined {
  const report = ctx.diagnostics.at(t.name, t.file);
  // Project `data_tests:` config < the file's own `{{ config(...) }}`.
  const raw: Record<string, unknown> = Object.assign({}, ...projectLayers);
  if (t.severity) raw.severity = t.severity;
  const renderWith = (
    deps: Set<string>,
    refs: string[],
    self?: string,
    named?: Set<string>,
  ): string | undefined => {
    const resolve = testResolver(linker, deps, self, named);
    try {
      return t.render({
        ref: (n) => {
          refs.push(n);
          return resolve(n);
        },
        source: (s, tb) => resolve(`source('${s}', '${tb}')`),
        config: (values) => Object.assign(raw, values),
        var: ctx.var,
        thisRelation: '',
        isIncremental: false,
      });
    } catch (error) {
      if (error instanceof UnknownReferenceError)
        report.error(error.code, `test ${t.name}: ${error.message}`);
      else {
        const prob = templateProblem(error, t.file ?? t.name, t.rawSql);
        report.error('TEMPLATE_ERROR', prob.message, prob.line);
      }
      return undefined;
    }
  };
  const deps = new Set<string>();
  const named = new Set<string>();
  const refs: string[] = [];
  let body = renderWith(deps, refs, undefined, named);
  if (body === undefined || !isEnabled(raw.enabled)) return undefined;
  const attached = named.size === 1 ? ([...named][0] as string) : undefined;
  const attachedNode = attached ? nodes[attached] : undefined;
  const auditable = attachedNode?.resourceType === 'model' || attachedNode?.resourceType === 'seed';
  if (auditable) {
    body = renderWith(new Set<string>(), [], attached);
    if (body === undefined) return undefined;
  }
  let template: CompiledTest;
  try {
    template = compileSingularTest({
      name: t.name,
      sql: body,
      config: parseTestConfig(raw),
      ...(refs.length === 1 ? { model: refs[0] as string } : {}),
    });
    template = withStoredFailures(ctx, template, raw, t.file);
  } catch (error) {
    report.error('CONFIG_ERROR', `test ${t.name}: ${(error as Error).message}`);
    return undefined;
  }
  const compiled: CompiledTest =
    auditable && attachedNode
      ? { ...template, sql: template.sql.split(RELATION_PLACEHOLDER).join(attachedNode.relation.sql) }
      : template;
  return {
    name: t.name,
    resourceType: 'test',
    packageName: ctx.projectName,
    ...(t.file ? { file: t.file } : {}),
    fqn: [ctx.projectName, t.name],
    tags: [],
    dependsOn: [...deps],
    testKind: 'singular',
    ...(attached ? { attachedNode: attached } : {}),
    severity: compiled.severity,
    compiled,
    ...(auditable ? { sqlTemplate: template.sql } : {}),
  };
}
