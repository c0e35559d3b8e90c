import { createCompileContext, scopedVars } from './compile/context.js';
import { createDiagnosticSink } from './compile/diagnostics.js';
import { inlineEphemerals } from './compile/ephemeral.js';
import { renderRunHooks } from './compile/hooks.js';
import type { ProjectInputs } from './compile/inputs.js';
import { jinjaGraph } from './compile/jinja-graph.js';
import { createLinker, linkModels } from './compile/link.js';
import { macroDependencies } from './compile/macro-deps.js';
import { addExternalRelations, type NameTable, seedNodes } from './compile/names.js';
import { type NamedModel, nameModel, parseModel } from './compile/parse-models.js';
import { readDbtProject } from './compile/read-dbt-project.js';
import { readTsProject } from './compile/read-ts-project.js';
import { renderModels } from './compile/render.js';
import { compileSnapshots, parseSnapshots } from './compile/snapshots.js';
import { type GivenSources, renderSourceYaml, sourceNodes } from './compile/sources.js';
import { compileTests } from './compile/tests.js';
import { compileUnitTests } from './compile/unit-tests.js';
import type { ProjectDefinition } from './define.js';
import { ModelingError } from './errors.js';
import {
  buildEdgeMaps,
  type CompiledGraph,
  type Diagnostic,
  type GraphNode,
  type ModelNode,
} from './graph.js';
import { type BuildRenderer, createBuildRenderer } from './introspection/build-renderer.js';
import type { DbtTarget } from './jinja/dbt-context.js';
import { JinjaEnvironment } from './jinja.js';

/** Options of {@link compileProject}. Exactly one of `dir` / `project`. */
export interface CompileOptions {
  /** dbt-style project directory containing `dataflow.yml` or `dbt_project.yml`. */
  dir?: string;
  /** A TypeScript project from `defineProject()`. */
  project?: ProjectDefinition;
  /** Target schema, e.g. `analytics`; `+schema: x` builds into `<schema>_x` like dbt. */
  schema: string;
  vars?: Record<string, unknown>;
  /**
   * Where sources live: `{ raw: { orders: { schema: 'public', identifier: 'raw_orders' } } }` (e.g. the
   * tables the CLI loaded). Adds sources, and locates schema.yml source tables that state no
   * `schema` / `identifier` of their own (what schema.yml states explicitly wins, field by field).
   * A table may also carry `freshness` and `loadedAtField` (e.g. a raw table's `_loaded_at`), used
   * where schema.yml states none.
   */
  sources?: GivenSources;
  /** Relations loaded outside the project that models may `ref()` by name. */
  externalRelations?: Array<{ name: string; schema: string; identifier: string }>;
  /**
   * Receives every secret a template reads: values of `DBT_ENV_SECRET_*` variables returned by
   * `env_var()` (dbt's rule). Register them with your redactor; they are never printed.
   */
  redact?: (secret: string) => void;
  /** Environment `env_var()` reads (default `process.env`). */
  env?: Record<string, string | undefined>;
  /**
   * `target.*` as templates and YAML values read it (`target.name` defaults to `default`, `type` to
   * `postgres`; `schema` is always {@link CompileOptions.schema}). `database` is the connection's:
   * a `+database` / `generate_database_name` result equal to it keeps relations two-part.
   */
  target?: Partial<DbtTarget>;
}

/** Result of {@link compileProject}: the graph is usable only when no diagnostic has severity `error`. */
export interface CompileResult {
  graph: CompiledGraph;
  diagnostics: Diagnostic[];
  /**
   * Renders models again at build time with `execute` true (dbt's run-time render: `run_query`,
   * `dbt_utils.star`…); pass it to `build` as `renderer`. Not part of the graph, which stays JSON.
   */
  renderer: BuildRenderer;
}

/**
 * Compiles a dbt-style project directory or a TypeScript project into a plain graph, in dbt's
 * phases: parse (read the project, first render of each model), link (names, refs and sources,
 * cycles), compile (final SQL, ephemeral inlining, tests). Template, reference and configuration
 * problems are collected as diagnostics; only an unreadable project (missing or invalid project
 * file) throws a {@link ModelingError}.
 *
 * @example
 * const { graph, diagnostics } = await compileProject({ dir: 'examples/jaffle_shop', schema: 'analytics' });
 * if (diagnostics.some((d) => d.severity === 'error')) throw new Error(diagnostics.map((d) => d.message).join('\n'));
 */
export async function compileProject(options: CompileOptions): Promise<CompileResult> {
  const diagnostics = createDiagnosticSink();
  const jinja = new JinjaEnvironment({
    schema: options.schema,
    ...(options.target ? { target: { ...options.target, schema: options.schema } } : {}),
    ...(options.redact ? { redact: options.redact } : {}),
    ...(options.env ? { env: options.env } : {}),
    ...(options.vars ? { cliVars: options.vars } : {}),
  });
  const inputs: ProjectInputs | undefined = options.project
    ? readTsProject(options.project, options.dir, diagnostics)
    : options.dir
      ? await readDbtProject(options.dir, jinja, diagnostics)
      : undefined;
  if (!inputs) throw new TypeError('compileProject: pass `dir` or `project`');
  const ctx = createCompileContext({
    projectName: inputs.name,
    targetSchema: options.schema,
    // dbt: the root project's global vars, then its own `vars: { <project>: … }` scope, then --vars.
    vars: scopedVars(inputs.name, { own: {}, root: inputs.vars, cli: options.vars ?? {} }),
    packageVars: new Map(
      (inputs.packages ?? []).map((p) => [
        p.name,
        { own: p.vars, root: inputs.vars, cli: options.vars ?? {} },
      ]),
    ),
    jinja,
    diagnostics,
  });

  const names: NameTable = new Map();
  const seeds = seedNodes(ctx, inputs.seeds, names);
  const models: NamedModel[] = [];
  const failed: NamedModel[] = [];
  for (const src of inputs.models) {
    const parsed = parseModel(ctx, src);
    const named = parsed && nameModel(ctx, parsed, names);
    if (named) (named.failed ? failed : models).push(named);
  }
  const snapshots = parseSnapshots(ctx, inputs.snapshots, names);
  addExternalRelations(names, options.externalRelations ?? []);
  // Source and table names may be Jinja too: tests attach to the rendered names.
  const declaredSources = inputs.sources.map((s) => renderSourceYaml(ctx, s));
  const sources = sourceNodes(ctx, declaredSources, options.sources);
  const linker = createLinker(names, sources);
  const { dependsOn, inCycle } = linkModels(ctx, models, linker);

  const rendered = renderModels(ctx, models, linker);
  const nodes: Record<string, GraphNode> = {};
  for (const seed of seeds) nodes[seed.uniqueId] = seed;
  for (const source of sources.values()) nodes[source.uniqueId] = source;
  const failedModels: NonNullable<CompiledGraph['failedModels']> = {};
  for (const m of failed) failedModels[m.uniqueId] = failedEntry(m);
  for (const m of models) {
    const r = rendered.get(m.uniqueId);
    if (!r) failedModels[m.uniqueId] = failedEntry(m);
    else
      nodes[m.uniqueId] = modelNode(ctx.projectName, m, dependsOn.get(m.uniqueId) ?? [], {
        ...(r.preHooks ? { preHooks: r.preHooks } : {}),
        ...(r.postHooks ? { postHooks: r.postHooks } : {}),
        sql: inlineEphemerals(m.uniqueId, r.sql, rendered, inCycle),
        ...(r.incrementalSql !== undefined
          ? { incrementalSql: inlineEphemerals(m.uniqueId, r.incrementalSql, rendered, inCycle) }
          : {}),
      });
  }
  for (const snapshot of compileSnapshots(ctx, snapshots, linker, rendered))
    nodes[snapshot.uniqueId] = snapshot;
  const testInputs = { ...inputs, sources: declaredSources };
  const tests = compileTests(ctx, { inputs: testInputs, nodes, sources, linker });
  for (const test of tests.nodes) nodes[test.uniqueId] = test;
  for (const unit of compileUnitTests(ctx, inputs.unitTests, models, linker)) nodes[unit.uniqueId] = unit;
  const { macros, nodeMacros } = macroDependencies(jinja.env, jinja.macroDefinitions, ctx.projectName, nodes);
  for (const [id, dependsOnMacros] of Object.entries(nodeMacros))
    nodes[id] = { ...(nodes[id] as GraphNode), dependsOnMacros };

  const graph: CompiledGraph = {
    projectName: ctx.projectName,
    targetSchema: ctx.targetSchema,
    ...(inputs.rootDir ? { rootDir: inputs.rootDir } : {}),
    generatedAt: new Date().toISOString(),
    nodes,
    ...buildEdgeMaps(nodes),
    ...(Object.keys(failedModels).length > 0 ? { failedModels } : {}),
    ...(Object.keys(macros).length > 0 ? { macros } : {}),
  };
  const onRunStart = renderRunHooks(ctx, 'on-run-start', inputs.onRunStart);
  const onRunEnd = renderRunHooks(ctx, 'on-run-end', inputs.onRunEnd);
  if (onRunStart.length > 0) graph.onRunStart = onRunStart;
  if (onRunEnd.length > 0) graph.onRunEnd = onRunEnd;
  const facts = new Map(
    models.map((m) => [m.uniqueId, { rawConfig: m.rawConfig, refs: m.refs, sources: m.sources }]),
  );
  const renderer = createBuildRenderer({
    ctx,
    models,
    linker,
    rendered,
    inCycle,
    tests: tests.pending,
    graph: () => jinjaGraph(ctx.projectName, nodes, (id) => facts.get(id)),
  });
  return { graph, diagnostics: diagnostics.list, renderer };
}

const failedEntry = (m: NamedModel) => ({ name: m.src.name, ...(m.src.file ? { file: m.src.file } : {}) });

function modelNode(
  projectName: string,
  m: NamedModel,
  dependsOn: string[],
  sql: { sql: string; incrementalSql?: string; preHooks?: string[]; postHooks?: string[] },
): ModelNode {
  return {
    uniqueId: m.uniqueId,
    name: m.src.name,
    resourceType: 'model',
    packageName: m.src.packageName ?? projectName,
    ...(m.src.file ? { file: m.src.file } : {}),
    fqn: m.src.fqn,
    tags: m.config.tags,
    dependsOn,
    ...(m.src.description ? { description: m.src.description } : {}),
    config: m.config,
    relation: m.relation,
    ...(m.src.rawSql !== undefined ? { rawSql: m.src.rawSql } : {}),
    compiledSql: sql.sql,
    ...(sql.incrementalSql !== undefined ? { incrementalSql: sql.incrementalSql } : {}),
    ...(sql.preHooks ? { preHooks: sql.preHooks } : {}),
    ...(sql.postHooks ? { postHooks: sql.postHooks } : {}),
    columns: m.src.columns,
  };
}

/**
 * Returns the graph when the compile has no error diagnostics, else throws
 * `ModelingError('COMPILE_FAILED')` listing the first few (warnings never throw).
 *
 * @example
 * const graph = assertCompiled(await compileProject({ dir, schema: 'analytics' }));
 */
export function assertCompiled(result: CompileResult): CompiledGraph {
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return result.graph;
  const shown = errors
    .slice(0, 5)
    .map((d) => `${d.file ?? d.node ?? ''}${d.line ? `:${d.line}` : ''} ${d.code}: ${d.message}`)
    .join('; ');
  const first = errors[0];
  throw new ModelingError(
    'COMPILE_FAILED',
    `${errors.length} compile error(s): ${shown}${errors.length > 5 ? '; ...' : ''}`,
    {
      ...(first?.node ? { node: first.node } : {}),
      ...(first?.file ? { file: first.file } : {}),
    },
  );
}
