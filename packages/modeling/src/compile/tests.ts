import { createHash } from 'node:crypto';
import {
  type CompiledTest,
  compileGenericTest,
  compileSingularTest,
  createTestRegistry,
  defaultTestAlias,
  parseTestConfig,
  QualityError,
  type TestConfig,
  type TestRegistry,
} from '@dataflow/quality';
import { type GraphNode, RELATION_PLACEHOLDER, type RelationInfo, type TestNode } from '../graph.js';
import { DbtRelation } from '../introspection/relation.js';
import { templateProblem } from '../jinja.js';
import type { TestDeclaration } from '../schema-yml.js';
import type { CompileContext } from './context.js';
import type { ProjectInputs, SingularSource } from './inputs.js';
import type { Linker } from './link.js';
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
 * it reads in `deps`; with `self`, the tested node renders as {@link RELATION_PLACEHOLDER} (a test
 * that refers back to its own model must see the version under test: the temp one during
 * write-audit-publish). `named` collects the nodes the test names (without those sharing their
 * relation): what a singular test is attached to.
 */
export function testResolver(
  linker: Linker,
  deps: Set<string>,
  self?: string,
  named?: Set<string>,
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
    if (self && r.nodeIds[0] === self) return RELATION_PLACEHOLDER;
    return r.relation.sql;
  };
}

/** A test macro that rendered no SQL while parsing: dbt renders it again when it runs. */
class RendersAtRunTime extends Error {}

/** Whether rendered test SQL is only whitespace and comments (`-- depends_on: {{ ref('x') }}` while parsing). */
function rendersNothing(sql: unknown): boolean {
  if (typeof sql !== 'string') return true;
  return (
    sql
      .replace(/--[^\n]*/g, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .trim() === ''
  );
}

/**
 * What the test macro last rendered set with `config(…)` (`severity='warn'`, `fail_calc`): the
 * lowest layer of its test's config, as in dbt. Rendering is synchronous, so the compile of the
 * test reads it right after the render (see {@link takeMacroConfig}).
 */
let macroConfig: Record<string, unknown> | undefined;

/** The `config(…)` values of the test macro just rendered (then forgotten). */
function takeMacroConfig(): Record<string, unknown> | undefined {
  const taken = macroConfig;
  macroConfig = undefined;
  return taken;
}

/** The project's generic test macros (`{% test %}`) on top of the built-in tests. */
export function testRegistry(ctx: CompileContext): TestRegistry {
  const registry = createTestRegistry();
  for (const name of ctx.jinja.testMacros.keys()) {
    registry.define(name, ({ relation, column, args, resolve }) => {
      const configured: Record<string, unknown> = {};
      macroConfig = configured;
      const sql = ctx.jinja.callTestMacro(
        name,
        {
          ref: (n) => resolve(n),
          source: (s, t) => resolve(`source('${s}', '${t}')`),
          config: (values) => Object.assign(configured, values),
          var: ctx.var,
          thisRelation: relation,
          isIncremental: false,
        },
        relation,
        column,
        relationArgs(args, resolve),
      );
      const parsing = ctx.jinja.env.globals.get('execute') === false;
      if (parsing && rendersNothing(sql)) throw new RendersAtRunTime(name);
      return sql;
    });
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

const shortHash = (value: unknown) =>
  createHash('md5').update(JSON.stringify(value)).digest('hex').slice(0, 10);

/** What a compiled test is attached to. */
interface Attached {
  uniqueId: string;
  name: string;
  relation: RelationInfo;
}

/** Everything test compilation reads. */
export interface TestCompileInput {
  inputs: Pick<ProjectInputs, 'models' | 'seeds' | 'sources' | 'singular'> &
    Partial<Pick<ProjectInputs, 'snapshots'>>;
  /** Model and seed nodes compiled so far. */
  nodes: Readonly<Record<string, GraphNode>>;
  sources: SourceTable;
  linker: Linker;
  /**
   * Receives, for each test that renders at run time ({@link TestNode.renderAtRunTime}), how to
   * render it again against a relation: the build calls it with `execute` true.
   */
  runTime?: Map<string, RunTimeTest>;
}

/** Renders one run-time test again against its published relation; undefined when it fails (reported to `ctx`'s diagnostics). */
export type RunTimeTest = (ctx: CompileContext) => Omit<TestNode, 'uniqueId'> | undefined;

/**
 * Test phase: generic tests declared on models, seeds and sources, then singular tests. Unique ids
 * are `test.<project>.<name>.<hash of what the test is>`, stable across compiles.
 *
 * @example
 * const tests = compileTests(ctx, { inputs, nodes, sources, linker }); // TestNode[]
 */
export function compileTests(ctx: CompileContext, input: TestCompileInput): TestNode[] {
  const { inputs, nodes, sources, linker } = input;
  const out: TestNode[] = [];
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
    const args = { decl, attached, registry, linker, targetType, ...(file ? { file } : {}) };
    const node = compileGenericTestNode(ctx, args);
    if (!node) return;
    const uniqueId = add(node, [attached.uniqueId, decl]);
    if (node.renderAtRunTime)
      input.runTime?.set(uniqueId, (runCtx) =>
        compileGenericTestNode(runCtx, { ...args, relation: attached.relation.sql }),
      );
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
    const node = compileSingularTestNode(ctx, t, nodes, linker);
    if (!node) continue;
    const uniqueId = add(node, [t.name, t.file]);
    if (node.renderAtRunTime)
      input.runTime?.set(uniqueId, (runCtx) => compileSingularTestNode(runCtx, t, nodes, linker));
  }
  return out;
}

const NAMES_RELATION = /\b(?:ref|source)\s*\(/;

/**
 * A test declaration as dbt reads it: Jinja in its config (`severity: "{{ 'warn' if … }}"`,
 * `enabled`, `where`) and in its arguments (`values: "{{ var('types') }}"` → a list) rendered
 * natively. Arguments naming `ref()` / `source()` are left to {@link relationArgs}.
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

/** A compiled test with its macro's `config(…)` under the config the YAML set (`explicit`). */
function withMacroConfig(test: CompiledTest, explicit: TestConfig): CompiledTest {
  const fromMacro = takeMacroConfig();
  if (!fromMacro || Object.keys(fromMacro).length === 0) return test;
  const config = { ...test.config, ...parseTestConfig(fromMacro), ...explicit };
  return { ...test, config, severity: config.severity ?? test.severity };
}

/** `: <why>` when a test failed to render because its template raised (the template's own message). */
function causeText(error: unknown): string {
  const cause = (error as Error).cause;
  if (!(cause instanceof Error) || cause instanceof QualityError) return '';
  return `: ${templateProblem(cause, '').message.split('\n')[0]}`;
}

/** One generic test declaration compiled against the node it is attached to (undefined: reported or disabled). */
export function compileGenericTestNode(
  ctx: CompileContext,
  args: {
    decl: TestDeclaration;
    attached: Attached;
    file?: string;
    targetType?: 'model' | 'source' | undefined;
    registry: TestRegistry;
    linker: Linker;
    /** Render against this relation instead of the placeholder token (a run-time render: see {@link TestNode.renderAtRunTime}). */
    relation?: string;
  },
): Omit<TestNode, 'uniqueId'> | undefined {
  const { attached, file, registry } = args;
  const decl = renderedDeclaration(ctx, args.decl, {
    packageName: undefined,
    file: file ?? attached.name,
    node: attached.name,
  });
  if (decl.config.enabled === false) return undefined;
  const report = ctx.diagnostics.at(attached.name, file);
  const deps = new Set<string>([attached.uniqueId]);
  const resolve = testResolver(args.linker, deps, attached.uniqueId);
  let compiled: CompiledTest;
  let sqlTemplate: string;
  let renderAtRunTime = false;
  try {
    const config: TestConfig = parseTestConfig(decl.config);
    const inv = {
      test: decl.test,
      model: attached.name,
      ...(decl.column !== undefined ? { column: decl.column } : {}),
      args: decl.args,
      config,
      targetType: args.targetType ?? 'model',
    };
    try {
      takeMacroConfig();
      const template = withMacroConfig(
        compileGenericTest(inv, { relation: args.relation ?? RELATION_PLACEHOLDER, resolve }, registry),
        config,
      );
      sqlTemplate = template.sql;
      compiled = { ...template, sql: template.sql.split(RELATION_PLACEHOLDER).join(attached.relation.sql) };
    } catch (error) {
      if (!((error as Error).cause instanceof RendersAtRunTime)) throw error;
      renderAtRunTime = true;
      sqlTemplate = '';
      const name = (error as QualityError).test ?? `${decl.test}_${attached.name}`;
      compiled = {
        name,
        alias: defaultTestAlias(inv),
        sql: '',
        severity: config.severity ?? 'error',
        config,
        model: inv.model,
        test: decl.test,
      };
    }
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
  return {
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
    compiled,
    sqlTemplate,
    ...(renderAtRunTime ? { renderAtRunTime: true as const } : {}),
  };
}

/** A singular test that renders no SQL while parsing (`{% if execute %}`): rendered again when it runs. */
function runTimeSingular(
  ctx: CompileContext,
  t: SingularSource,
  dependsOn: string[],
): Omit<TestNode, 'uniqueId'> | undefined {
  let config: TestConfig;
  try {
    config = parseTestConfig(t.severity ? { severity: t.severity } : {});
  } catch (error) {
    ctx.diagnostics.at(t.name, t.file).error('CONFIG_ERROR', `test ${t.name}: ${(error as Error).message}`);
    return undefined;
  }
  const severity = config.severity ?? 'error';
  return {
    name: t.name,
    resourceType: 'test',
    packageName: ctx.projectName,
    ...(t.file ? { file: t.file } : {}),
    fqn: [ctx.projectName, t.name],
    tags: [],
    dependsOn,
    testKind: 'singular',
    severity,
    compiled: { name: t.name, sql: '', severity, config, test: 'singular' },
    renderAtRunTime: true,
  };
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
): Omit<TestNode, 'uniqueId'> | undefined {
  const report = ctx.diagnostics.at(t.name, t.file);
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
        config: () => undefined,
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
  if (body === undefined) return undefined;
  if (rendersNothing(body) && ctx.jinja.env.globals.get('execute') === false)
    return runTimeSingular(ctx, t, [...deps]);
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
      config: parseTestConfig(t.severity ? { severity: t.severity } : {}),
      ...(refs.length === 1 ? { model: refs[0] as string } : {}),
    });
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
