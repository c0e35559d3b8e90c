import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, join, resolve as resolvePath } from 'node:path';
import {
  type CompiledTest,
  compileGenericTest,
  compileSingularTest,
  createTestRegistry,
  parseTestConfig,
  QualityError,
  type TestConfig,
} from '@dataflow/quality';
import type { ModelContext, ProjectDefinition } from './define.js';
import { ModelingError } from './errors.js';
import {
  buildEdgeMaps,
  type CompiledGraph,
  type Diagnostic,
  findCycles,
  type GraphNode,
  type IncrementalStrategy,
  type Materialization,
  type ModelConfig,
  type ModelNode,
  RELATION_PLACEHOLDER,
  type RelationInfo,
  type SeedNode,
  type SourceNode,
  type TestNode,
} from './graph.js';
import { JinjaEnvironment, outputsContextDirectly, type RenderScope, templateProblem } from './jinja.js';
import {
  type ConfigLayer,
  folderConfigLayers,
  listFiles,
  type ProjectFile,
  readProjectFile,
} from './project-files.js';
import { identifierBytes, MAX_IDENTIFIER_BYTES, qualify, quoteIdent } from './quote.js';
import {
  collectTests,
  parseSchemaYml,
  resolveSourceLocation,
  type TestDeclaration,
  type YmlSourceTable,
} from './schema-yml.js';
import { _relationRef } from './sql-fragment.js';

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
   */
  sources?: Record<string, Record<string, { schema: string; identifier: string }>>;
  /** Relations loaded outside the project that models may `ref()` by name. */
  externalRelations?: Array<{ name: string; schema: string; identifier: string }>;
}

/** Result of {@link compileProject}: the graph is usable only when no diagnostic has severity `error`. */
export interface CompileResult {
  graph: CompiledGraph;
  diagnostics: Diagnostic[];
}

/** A model before rendering, from either a `.sql` file or a TS definition. */
interface ModelSource {
  name: string;
  file?: string;
  fqn: string[];
  rawSql?: string;
  layers: ConfigLayer[];
  /** TS-API config (wins like an inline `config()` call). */
  inline: ConfigLayer;
  description?: string;
  columns: Record<string, { description?: string }>;
  tests: TestDeclaration[];
  testsFile?: string;
  /**
   * The template outputs `ref()` / `source()` / `this` only directly (see `outputsContextDirectly`):
   * its first render, with tokens for those values, becomes the final SQL by substituting them.
   */
  substitutable?: boolean;
  render(scope: RenderScope): string;
}

interface SeedSource {
  name: string;
  file: string;
  absPath: string;
  layers: ConfigLayer[];
  tests: TestDeclaration[];
  testsFile?: string;
}

interface SingularSource {
  name: string;
  file?: string;
  rawSql?: string;
  severity?: string;
  render(scope: RenderScope): string;
}

interface ProjectInputs {
  name: string;
  rootDir?: string;
  vars: Record<string, unknown>;
  models: ModelSource[];
  seeds: SeedSource[];
  /** Source tables declared in schema.yml (locations only as far as the yml states them). */
  sources: YmlSourceTable[];
  singular: SingularSource[];
  jinja: JinjaEnvironment;
}

const MATERIALIZATIONS: readonly Materialization[] = ['view', 'table', 'incremental', 'ephemeral'];
const STRATEGIES: readonly IncrementalStrategy[] = ['append', 'delete+insert', 'merge'];

const refPlaceholder = (name: string) => `__df_ref__${name}__`;

/** What a token in a first render stands for; see {@link ModelSource.substitutable}. */
type ContextValue = { ref: string } | { source: [string, string] };
const TOKEN = /\uE000df(\d+|this)\uE000/g;
const token = (index: number | 'this') => `\uE000df${index}\uE000`;

function lineOf(text: string | undefined, pattern: RegExp): number | undefined {
  if (!text) return undefined;
  const m = pattern.exec(text);
  if (!m) return undefined;
  return text.slice(0, m.index).split('\n').length;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Reads project source files (SQL, yml: small text, not data). Synchronously on purpose: compiling
 * is CPU-bound and blocks the event loop for far longer anyway, and one read costs ~10 µs this way
 * against ~70 µs through `fs/promises` (open, stat, read, close on the thread pool).
 */
const readSource = (root: string, file: string): string => readFileSync(join(root, file), 'utf8');

async function readDbtProject(
  dir: string,
  schema: string,
  diagnostics: Diagnostic[],
): Promise<ProjectInputs> {
  const root = resolvePath(dir);
  const pf: ProjectFile = await readProjectFile(root);
  const jinja = new JinjaEnvironment({ schema });
  const inputs: ProjectInputs = {
    name: pf.name,
    rootDir: root,
    vars: pf.vars,
    models: [],
    seeds: [],
    sources: [],
    singular: [],
    jinja,
  };
  const problem = (
    file: string,
    message: string,
    line?: number,
    code: Diagnostic['code'] = 'TEMPLATE_ERROR',
  ) => diagnostics.push({ severity: 'error', code, message, file, ...(line ? { line } : {}) });

  const macroDirs = [...pf.macroPaths, ...pf.testPaths.map((t) => `${t}/generic`)];
  for (const macroDir of macroDirs) {
    for (const file of await listFiles(root, macroDir, ['.sql'])) {
      const p = jinja.loadMacros(readSource(root, file), file);
      if (p) problem(p.file, p.message, p.line);
    }
  }

  const ymlModels = new Map<
    string,
    {
      file: string;
      config: ConfigLayer;
      description?: string;
      columns: Record<string, { description?: string }>;
      tests: TestDeclaration[];
    }
  >();
  const ymlSeeds = new Map<string, { file: string; config: ConfigLayer; tests: TestDeclaration[] }>();
  const ymlDirs = [...pf.modelPaths, ...pf.seedPaths];
  for (const ymlDir of ymlDirs) {
    const files = await listFiles(root, ymlDir, ['.yml', '.yaml']);
    const texts = files.map((file) => readSource(root, file));
    for (const [index, file] of files.entries()) {
      const parsed = parseSchemaYml(texts[index] as string, file);
      for (const p of parsed.problems) problem(p.file, p.message, p.line, 'CONFIG_ERROR');
      for (const m of parsed.models) {
        if (ymlModels.has(m.name)) {
          problem(
            file,
            `model ${m.name} is described twice (also in ${ymlModels.get(m.name)?.file})`,
            undefined,
            'DUPLICATE_NAME',
          );
          continue;
        }
        ymlModels.set(m.name, m);
      }
      for (const s of parsed.seeds) ymlSeeds.set(s.name, s);
      inputs.sources.push(...parsed.sources);
    }
  }

  for (const modelDir of pf.modelPaths) {
    const files = await listFiles(root, modelDir, ['.sql']);
    const texts = files.map((file) => readSource(root, file));
    for (const [index, file] of files.entries()) {
      const rawSql = texts[index] as string;
      const name = basename(file, '.sql');
      const parts = file.slice(modelDir.length + 1).split('/');
      const folders = parts.slice(0, -1);
      const yml = ymlModels.get(name);
      ymlModels.delete(name);
      inputs.models.push({
        name,
        file,
        fqn: [pf.name, ...folders, name],
        rawSql,
        layers: [...folderConfigLayers(pf.models, pf.name, [...folders, name]), yml?.config ?? {}],
        inline: {},
        ...(yml?.description ? { description: yml.description } : {}),
        columns: yml?.columns ?? {},
        tests: yml?.tests ?? [],
        ...(yml ? { testsFile: yml.file } : {}),
        substitutable: !jinja.macrosReadContext && outputsContextDirectly(rawSql),
        render: (scope) => jinja.render(rawSql, file, scope),
      });
    }
  }
  for (const [name, yml] of ymlModels) {
    diagnostics.push({
      severity: 'warning',
      code: 'CONFIG_ERROR',
      message: `${yml.file} describes model ${name}, which has no .sql file`,
      file: yml.file,
      node: name,
    });
  }

  for (const seedDir of pf.seedPaths) {
    for (const file of await listFiles(root, seedDir, ['.csv'])) {
      const name = basename(file, '.csv');
      const folders = file
        .slice(seedDir.length + 1)
        .split('/')
        .slice(0, -1);
      const yml = ymlSeeds.get(name);
      inputs.seeds.push({
        name,
        file,
        absPath: join(root, file),
        layers: [...folderConfigLayers(pf.seeds, pf.name, [...folders, name]), yml?.config ?? {}],
        tests: yml?.tests ?? [],
        ...(yml ? { testsFile: yml.file } : {}),
      });
    }
  }

  for (const testDir of pf.testPaths) {
    for (const file of await listFiles(root, testDir, ['.sql'])) {
      if (file.startsWith(`${testDir}/generic/`)) continue;
      const rawSql = readSource(root, file);
      inputs.singular.push({
        name: basename(file, '.sql'),
        file,
        rawSql,
        render: (scope) => jinja.render(rawSql, file, scope),
      });
    }
  }
  return inputs;
}

function readTsProject(
  project: ProjectDefinition,
  dir: string | undefined,
  schema: string,
  diagnostics: Diagnostic[],
): ProjectInputs {
  const inputs: ProjectInputs = {
    name: project.name,
    ...(dir ? { rootDir: resolvePath(dir) } : {}),
    vars: project.vars,
    models: [],
    seeds: [],
    sources: [],
    singular: [],
    jinja: new JinjaEnvironment({ schema }),
  };
  const tsContext = (scope: RenderScope): ModelContext => ({
    ref: (name: string) => _relationRef(name, scope.ref(name)),
    source: (s: string, t: string) => _relationRef(`${s}.${t}`, scope.source(s, t)),
    self: _relationRef('this', scope.thisRelation),
    isIncremental: scope.isIncremental,
    var: <T>(name: string, defaultValue?: T) =>
      scope.var(name, defaultValue, defaultValue !== undefined) as T,
  });
  for (const def of project.models) {
    const { tests, columns } = collectTests({ tests: def.tests, columns: def.columns }, (m) =>
      diagnostics.push({ severity: 'error', code: 'CONFIG_ERROR', message: m, node: def.name }),
    );
    const inline: ConfigLayer = {};
    if (def.materialized) inline.materialized = def.materialized;
    if (def.uniqueKey) inline.unique_key = def.uniqueKey;
    if (def.incrementalStrategy) inline.incremental_strategy = def.incrementalStrategy;
    if (def.schema) inline.schema = def.schema;
    if (def.alias) inline.alias = def.alias;
    if (def.tags) inline.tags = def.tags;
    const folders = def.path ? def.path.split('/').slice(1, -1) : [];
    inputs.models.push({
      name: def.name,
      ...(def.path ? { file: def.path } : {}),
      fqn: [project.name, ...folders, def.name],
      layers: [],
      inline,
      ...(def.description ? { description: def.description } : {}),
      columns,
      tests,
      render: (scope) => String(def.sql(tsContext(scope) as ModelContext<never>)),
    });
  }
  for (const seed of project.seeds) {
    const { tests } = collectTests({ columns: seed.columns }, (m) =>
      diagnostics.push({ severity: 'error', code: 'CONFIG_ERROR', message: m, node: seed.name }),
    );
    const absPath = isAbsolute(seed.file) ? seed.file : resolvePath(dir ?? process.cwd(), seed.file);
    const layer: ConfigLayer = {};
    if (seed.columnTypes) layer.column_types = seed.columnTypes;
    if (seed.schema) layer.schema = seed.schema;
    inputs.seeds.push({ name: seed.name, file: seed.file, absPath, layers: [layer], tests });
  }
  for (const t of project.tests) {
    inputs.singular.push({
      name: t.name,
      ...(t.severity ? { severity: t.severity } : {}),
      render: (scope) => String(t.sql(tsContext(scope))),
    });
  }
  return inputs;
}

function mergeLayers(layers: ConfigLayer[]): ConfigLayer {
  const out: ConfigLayer = {};
  const tags = new Set<string>();
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer)) {
      if (k === 'tags') {
        for (const t of Array.isArray(v) ? v : [v]) if (typeof t === 'string') tags.add(t);
      } else if (v !== undefined) out[k] = v;
    }
  }
  out.tags = [...tags];
  return out;
}

function toModelConfig(raw: ConfigLayer, report: (msg: string) => void): ModelConfig {
  let materialized: Materialization = 'view';
  if (raw.materialized !== undefined) {
    if (MATERIALIZATIONS.includes(raw.materialized as Materialization))
      materialized = raw.materialized as Materialization;
    else
      report(
        `unknown materialization ${JSON.stringify(raw.materialized)} (expected ${MATERIALIZATIONS.join(', ')})`,
      );
  }
  let incrementalStrategy: IncrementalStrategy = 'merge';
  const uniqueKeyRaw = raw.unique_key;
  let uniqueKey: string[] | undefined;
  if (typeof uniqueKeyRaw === 'string') uniqueKey = [uniqueKeyRaw];
  else if (Array.isArray(uniqueKeyRaw) && uniqueKeyRaw.every((k) => typeof k === 'string'))
    uniqueKey = uniqueKeyRaw as string[];
  else if (uniqueKeyRaw !== undefined && uniqueKeyRaw !== null)
    report('unique_key must be a column name or a list of column names');
  if (raw.incremental_strategy !== undefined) {
    if (STRATEGIES.includes(raw.incremental_strategy as IncrementalStrategy))
      incrementalStrategy = raw.incremental_strategy as IncrementalStrategy;
    else
      report(
        `unknown incremental_strategy ${JSON.stringify(raw.incremental_strategy)} (expected ${STRATEGIES.join(', ')})`,
      );
  } else if (!uniqueKey) incrementalStrategy = 'append';
  if (materialized === 'incremental' && incrementalStrategy !== 'append' && !uniqueKey)
    report(`incremental_strategy ${incrementalStrategy} needs a unique_key`);
  const config: ModelConfig = {
    materialized,
    incrementalStrategy,
    tags: (raw.tags as string[]) ?? [],
    enabled: raw.enabled !== false,
  };
  if (uniqueKey) config.uniqueKey = uniqueKey;
  if (typeof raw.schema === 'string') config.schema = raw.schema;
  if (typeof raw.alias === 'string') config.alias = raw.alias;
  if (typeof raw.full_refresh === 'boolean') config.fullRefresh = raw.full_refresh;
  return config;
}

const shortHash = (value: unknown) =>
  createHash('md5').update(JSON.stringify(value)).digest('hex').slice(0, 10);

/** dbt's generate_schema_name: a custom schema is appended to the target schema. */
const schemaFor = (target: string, custom: unknown) =>
  typeof custom === 'string' && custom ? `${target}_${custom}` : target;

/**
 * Compiles a dbt-style project directory or a TypeScript project into a plain graph. Template,
 * reference and configuration problems are collected as diagnostics; only an unreadable project
 * (missing or invalid project file) throws a {@link ModelingError}.
 *
 * @example
 * const { graph, diagnostics } = await compileProject({ dir: 'examples/jaffle_shop', schema: 'analytics' });
 * if (diagnostics.some((d) => d.severity === 'error')) throw new Error(diagnostics.map((d) => d.message).join('\n'));
 */
export async function compileProject(options: CompileOptions): Promise<CompileResult> {
  const diagnostics: Diagnostic[] = [];
  const target = options.schema;
  const inputs = options.project
    ? readTsProject(options.project, options.dir, target, diagnostics)
    : options.dir
      ? await readDbtProject(options.dir, target, diagnostics)
      : undefined;
  if (!inputs) throw new TypeError('compileProject: pass `dir` or `project`');
  const pkg = inputs.name;
  const vars = { ...inputs.vars, ...(options.vars ?? {}) };
  const nodes: Record<string, GraphNode> = {};
  const err = (code: Diagnostic['code'], message: string, extra: Partial<Diagnostic> = {}) =>
    diagnostics.push({ severity: 'error', code, message, ...extra });

  const varFn = (name: string, defaultValue: unknown, hasDefault: boolean | undefined) => {
    if (name in vars) return vars[name];
    if (hasDefault) return defaultValue;
    throw new Error(`required var '${name}' not found in project vars or --vars`);
  };

  // ---- names: seeds, models, externals -------------------------------------------------
  const byName = new Map<
    string,
    { uniqueId: string; relation: RelationInfo; ephemeral?: boolean; file?: string }
  >();
  const claim = (
    name: string,
    uniqueId: string,
    relation: RelationInfo,
    file: string | undefined,
    ephemeral = false,
  ) => {
    const prior = byName.get(name);
    if (prior) {
      err(
        'DUPLICATE_NAME',
        `two resources are named ${name}: ${prior.file ?? prior.uniqueId} and ${file ?? uniqueId}`,
        {
          node: name,
          ...(file ? { file } : {}),
        },
      );
      return false;
    }
    byName.set(name, { uniqueId, relation, ephemeral, ...(file ? { file } : {}) });
    return true;
  };
  const relationOf = (schema: string, identifier: string, database?: string): RelationInfo => ({
    ...(database !== undefined ? { database } : {}),
    schema,
    identifier,
    sql:
      database !== undefined
        ? `${quoteIdent(database)}.${qualify(schema, identifier)}`
        : qualify(schema, identifier),
  });
  const checkLength = (name: string, what: string, file: string | undefined) => {
    if (identifierBytes(name) > MAX_IDENTIFIER_BYTES)
      err(
        'NAME_TOO_LONG',
        `${what} name ${name} is ${identifierBytes(name)} bytes; PostgreSQL identifiers are at most ${MAX_IDENTIFIER_BYTES}`,
        {
          node: name,
          ...(file ? { file } : {}),
        },
      );
  };

  for (const seed of inputs.seeds) {
    const cfg = mergeLayers(seed.layers);
    const relation = relationOf(schemaFor(target, cfg.schema), seed.name);
    const uniqueId = `seed.${pkg}.${seed.name}`;
    checkLength(seed.name, 'seed', seed.file);
    if (!claim(seed.name, uniqueId, relation, seed.file)) continue;
    const node: SeedNode = {
      uniqueId,
      name: seed.name,
      resourceType: 'seed',
      packageName: pkg,
      file: seed.file,
      fqn: [pkg, seed.name],
      tags: (cfg.tags as string[]) ?? [],
      dependsOn: [],
      relation,
      seedPath: seed.absPath,
    };
    if (cfg.column_types && typeof cfg.column_types === 'object')
      node.columnTypes = cfg.column_types as Record<string, string>;
    nodes[uniqueId] = node;
  }

  // ---- pass 1: render with placeholders to collect refs, sources and config() --------------
  interface Pass1 {
    src: ModelSource;
    refs: string[];
    sources: Array<[string, string]>;
    config: ModelConfig;
    relation: RelationInfo;
    uniqueId: string;
    /** The first render with tokens for `tokens[i]`, when the template is substitutable. */
    tokenized?: { sql: string; tokens: ContextValue[] };
  }
  const pass1: Pass1[] = [];
  for (const src of inputs.models) {
    const refs: string[] = [];
    const sources: Array<[string, string]> = [];
    const inline: ConfigLayer = {};
    const tokens: ContextValue[] = [];
    const tokenFor = (value: ContextValue) => token(tokens.push(value) - 1);
    let firstRender: string;
    try {
      firstRender = src.render({
        ref: (n) => {
          refs.push(n);
          return src.substitutable ? tokenFor({ ref: n }) : refPlaceholder(n);
        },
        source: (s, t) => {
          sources.push([s, t]);
          return src.substitutable ? tokenFor({ source: [s, t] }) : `__df_source__${s}__${t}__`;
        },
        config: (values) => Object.assign(inline, values),
        var: varFn,
        // Every `{{ this }}` of a substitutable template outputs the same token.
        thisRelation: src.substitutable ? token('this') : '__df_this__',
        isIncremental: false,
      });
    } catch (error) {
      const p = templateProblem(error, src.file ?? src.name, src.rawSql);
      err('TEMPLATE_ERROR', p.message, {
        node: src.name,
        ...(src.file ? { file: src.file } : {}),
        ...(p.line ? { line: p.line } : {}),
      });
      continue;
    }
    const config = toModelConfig(mergeLayers([...src.layers, src.inline, inline]), (message) =>
      err('CONFIG_ERROR', `${src.name}: ${message}`, {
        node: src.name,
        ...(src.file ? { file: src.file } : {}),
      }),
    );
    if (!config.enabled) continue;
    const identifier = config.alias ?? src.name;
    checkLength(identifier, 'model', src.file);
    const relation = relationOf(schemaFor(target, config.schema), identifier);
    const uniqueId = `model.${pkg}.${src.name}`;
    if (!claim(src.name, uniqueId, relation, src.file, config.materialized === 'ephemeral')) continue;
    pass1.push({
      src,
      refs,
      sources,
      config,
      relation,
      uniqueId,
      ...(src.substitutable ? { tokenized: { sql: firstRender, tokens } } : {}),
    });
  }
  for (const ext of options.externalRelations ?? []) {
    if (!byName.has(ext.name))
      byName.set(ext.name, { uniqueId: '', relation: relationOf(ext.schema, ext.identifier) });
  }

  // ---- sources ------------------------------------------------------------------------------
  const sourceIds = new Map<string, SourceNode>();
  // A schema.yml table takes the caller's location (CompileOptions.sources) for whatever the yml
  // leaves unstated; tables only the caller knows are added as they are.
  const givenSource = (sourceName: string, table: string) =>
    Object.hasOwn(options.sources ?? {}, sourceName) &&
    Object.hasOwn(options.sources?.[sourceName] ?? {}, table)
      ? options.sources?.[sourceName]?.[table]
      : undefined;
  const addSource = (
    declared: Omit<YmlSourceTable, 'file' | 'tests' | 'columns'> & {
      file?: string;
      columns?: YmlSourceTable['columns'];
    },
  ) => {
    const { sourceName, name: table, file } = declared;
    const key = `${sourceName}.${table}`;
    if (sourceIds.has(key)) return;
    const uniqueId = `source.${pkg}.${sourceName}.${table}`;
    const location = resolveSourceLocation(declared, givenSource(sourceName, table));
    const node: SourceNode = {
      uniqueId,
      name: table,
      resourceType: 'source',
      packageName: pkg,
      ...(file ? { file } : {}),
      fqn: [pkg, sourceName, table],
      tags: [],
      dependsOn: [],
      ...(declared.description ? { description: declared.description } : {}),
      sourceName,
      tableName: table,
      relation: relationOf(location.schema, location.identifier, location.database),
      ...(declared.columns ? { columns: declared.columns } : {}),
      ...(declared.freshness ? { freshness: declared.freshness } : {}),
      ...(declared.loadedAtField ? { loadedAtField: declared.loadedAtField } : {}),
    };
    sourceIds.set(key, node);
    nodes[uniqueId] = node;
  };
  for (const s of inputs.sources) addSource(s);
  for (const [sourceName, tables] of Object.entries(options.sources ?? {}))
    for (const table of Object.keys(tables)) addSource({ sourceName, name: table });

  // ---- references, cycles ----------------------------------------------------------------------
  const modelDeps = new Map<string, string[]>();
  for (const p of pass1) {
    const deps = new Set<string>();
    for (const r of p.refs) {
      const target = byName.get(r);
      if (!target) {
        const line = lineOf(
          p.src.rawSql,
          new RegExp(`ref\\(\\s*(['"][^'"]*['"]\\s*,\\s*)?['"]${escapeRe(r)}['"]`),
        );
        err('UNKNOWN_REF', `${p.src.name} references ${r}, which is not a model, seed or loaded relation`, {
          node: p.src.name,
          ...(p.src.file ? { file: p.src.file } : {}),
          ...(line ? { line } : {}),
        });
      } else if (target.uniqueId) deps.add(target.uniqueId);
    }
    for (const [s, t] of p.sources) {
      const node = sourceIds.get(`${s}.${t}`);
      if (!node) {
        const line = lineOf(
          p.src.rawSql,
          new RegExp(`source\\(\\s*['"]${escapeRe(s)}['"]\\s*,\\s*['"]${escapeRe(t)}['"]`),
        );
        err('UNKNOWN_SOURCE', `${p.src.name} reads source('${s}', '${t}'), which is not declared`, {
          node: p.src.name,
          ...(p.src.file ? { file: p.src.file } : {}),
          ...(line ? { line } : {}),
        });
      } else deps.add(node.uniqueId);
    }
    modelDeps.set(p.uniqueId, [...deps]);
  }
  const cycles = findCycles(
    pass1.map((p) => p.uniqueId),
    (id) => (modelDeps.get(id) ?? []).filter((d) => d.startsWith('model.')),
  );
  const inCycle = new Set<string>();
  for (const cycle of cycles) {
    const names = cycle.map((id) => id.split('.').slice(2).join('.'));
    const first = pass1.find((p) => p.uniqueId === cycle[0]);
    err('CYCLE', `dependency cycle: ${names.join(' -> ')}`, {
      node: names[0] as string,
      ...(first?.src.file ? { file: first.src.file } : {}),
    });
    for (const id of cycle) inCycle.add(id);
  }

  // ---- pass 2: final SQL ----------------------------------------------------------------------------
  const cteName = (name: string) => `__dbt__cte__${name}`;
  const rendered = new Map<string, { sql: string; incrementalSql?: string; ephemeralRefs: string[] }>();
  for (const p of pass1) {
    let ephemeralRefs = new Set<string>();
    const resolveRef = (n: string, ephemerals = ephemeralRefs) => {
      const t = byName.get(n);
      if (!t) return refPlaceholder(n);
      if (t.ephemeral) {
        ephemerals.add(t.uniqueId);
        return cteName(n);
      }
      return t.relation.sql;
    };
    const resolveSource = (s: string, t: string) =>
      sourceIds.get(`${s}.${t}`)?.relation.sql ?? `__df_source__${s}__${t}__`;
    const render = (isIncremental: boolean) =>
      p.src.render({
        ref: (n) => resolveRef(n),
        source: resolveSource,
        config: () => undefined,
        var: varFn,
        thisRelation: p.relation.sql,
        isIncremental,
      });
    /** The first render with its tokens substituted; undefined when some token did not come out intact. */
    const substituted = (): string | undefined => {
      if (!p.tokenized) return undefined;
      const { sql: text, tokens } = p.tokenized;
      const seen = new Set<number>();
      const ephemerals = new Set<string>();
      let intact = true;
      const out = text.replace(TOKEN, (_m, key: string) => {
        if (key === 'this') return p.relation.sql;
        const index = Number(key);
        const value = tokens[index];
        if (value === undefined || seen.has(index)) intact = false;
        seen.add(index);
        if (value === undefined) return '';
        return 'ref' in value ? resolveRef(value.ref, ephemerals) : resolveSource(...value.source);
      });
      // Each ref() / source() value must come out exactly once, and nothing else look like a token.
      if (!intact || seen.size !== tokens.length || out.includes('\uE000')) return undefined;
      ephemeralRefs = ephemerals;
      return out;
    };
    try {
      const sqlText = substituted() ?? render(false);
      const incrementalSql = p.config.materialized === 'incremental' ? render(true) : undefined;
      rendered.set(p.uniqueId, {
        sql: sqlText,
        ...(incrementalSql !== undefined ? { incrementalSql } : {}),
        ephemeralRefs: [...ephemeralRefs],
      });
    } catch (error) {
      const prob = templateProblem(error, p.src.file ?? p.src.name, p.src.rawSql);
      err('TEMPLATE_ERROR', prob.message, {
        node: p.src.name,
        ...(p.src.file ? { file: p.src.file } : {}),
        ...(prob.line ? { line: prob.line } : {}),
      });
    }
  }

  // Ephemeral parents become CTEs, innermost first, each included once.
  const inlineEphemerals = (id: string, body: string): string => {
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (eid: string) => {
      if (seen.has(eid) || inCycle.has(eid)) return;
      seen.add(eid);
      for (const parent of rendered.get(eid)?.ephemeralRefs ?? []) visit(parent);
      order.push(eid);
    };
    for (const e of rendered.get(id)?.ephemeralRefs ?? []) visit(e);
    if (order.length === 0) return body;
    const ctes = order
      .map(
        (eid) =>
          `${cteName(eid.split('.').slice(2).join('.'))} as (\n${(rendered.get(eid)?.sql ?? '').trim()}\n)`,
      )
      .join(',\n');
    const leading = /^(\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*)with\s/i.exec(body);
    if (leading) return `${leading[1]}with ${ctes},\n${body.slice(leading[0].length)}`;
    return `with ${ctes}\n${body}`;
  };

  for (const p of pass1) {
    const r = rendered.get(p.uniqueId);
    if (!r) continue;
    const deps = modelDeps.get(p.uniqueId) ?? [];
    const node: ModelNode = {
      uniqueId: p.uniqueId,
      name: p.src.name,
      resourceType: 'model',
      packageName: pkg,
      ...(p.src.file ? { file: p.src.file } : {}),
      fqn: p.src.fqn,
      tags: p.config.tags,
      dependsOn: deps,
      ...(p.src.description ? { description: p.src.description } : {}),
      config: p.config,
      relation: p.relation,
      ...(p.src.rawSql !== undefined ? { rawSql: p.src.rawSql } : {}),
      compiledSql: inlineEphemerals(p.uniqueId, r.sql),
      ...(r.incrementalSql !== undefined
        ? { incrementalSql: inlineEphemerals(p.uniqueId, r.incrementalSql) }
        : {}),
      columns: p.src.columns,
    };
    nodes[p.uniqueId] = node;
  }

  // ---- tests ------------------------------------------------------------------------------------
  const registry = createTestRegistry();
  for (const name of inputs.jinja.testMacros.keys()) {
    registry.define(name, ({ relation, column, args, resolve }) =>
      inputs.jinja.callTestMacro(
        name,
        {
          ref: (n) => resolve(n),
          source: (s, t) => resolve(`source('${s}', '${t}')`),
          config: () => undefined,
          var: varFn,
          thisRelation: relation,
          isIncremental: false,
        },
        relation,
        column,
        args,
      ),
    );
  }
  const testIds = new Set<string>();
  const addTestNode = (node: Omit<TestNode, 'uniqueId'>, identity: unknown) => {
    let uniqueId = `test.${pkg}.${node.name}.${shortHash(identity)}`;
    while (testIds.has(uniqueId)) uniqueId += '_';
    testIds.add(uniqueId);
    nodes[uniqueId] = { ...node, uniqueId } as TestNode;
  };

  /** Resolves `ref('x')`, `source('a','b')` or a bare name used inside a test; records the dependency. */
  const testResolver =
    (deps: Set<string>, self?: string) =>
    (expr: string): string => {
      const refM = /^\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)\s*$/.exec(expr);
      const srcM = /^\s*source\(\s*['"]([^'"]+)['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*$/.exec(expr);
      if (srcM) {
        const node = sourceIds.get(`${srcM[1]}.${srcM[2]}`);
        if (!node)
          throw new UnknownReferenceError(
            'UNKNOWN_SOURCE',
            `source('${srcM[1]}', '${srcM[2]}') is not declared`,
          );
        deps.add(node.uniqueId);
        return node.relation.sql;
      }
      const name = refM ? ((refM[2] ?? refM[1]) as string) : expr.trim();
      const t = byName.get(name);
      if (!t)
        throw new UnknownReferenceError('UNKNOWN_REF', `${name} is not a model, seed or loaded relation`);
      if (t.uniqueId) deps.add(t.uniqueId);
      // A test that refers back to its own model (self-referencing relationships) must see the
      // same version as the tested relation: the temp one during write-audit-publish.
      if (self && t.uniqueId === self) return RELATION_PLACEHOLDER;
      return t.relation.sql;
    };

  const compileDeclared = (
    decl: TestDeclaration,
    attached: { uniqueId: string; name: string; relation: RelationInfo },
    file: string | undefined,
    targetType: 'model' | 'source' = 'model',
  ) => {
    const where = { node: attached.name, ...(file ? { file } : {}) };
    if (decl.config.enabled === false) return;
    const deps = new Set<string>([attached.uniqueId]);
    const resolve = testResolver(deps, attached.uniqueId);
    let config: TestConfig;
    let compiled: CompiledTest;
    let sqlTemplate: string;
    try {
      config = parseTestConfig(decl.config);
      const inv = {
        test: decl.test,
        model: attached.name,
        ...(decl.column !== undefined ? { column: decl.column } : {}),
        args: decl.args,
        config,
        targetType,
      };
      const template = compileGenericTest(inv, { relation: RELATION_PLACEHOLDER, resolve }, registry);
      sqlTemplate = template.sql;
      compiled = { ...template, sql: template.sql.split(RELATION_PLACEHOLDER).join(attached.relation.sql) };
    } catch (error) {
      const unknownRef = error instanceof UnknownReferenceError ? error : (error as Error).cause;
      const label = `test ${decl.test} on ${attached.name}${decl.column ? `.${decl.column}` : ''}`;
      if (unknownRef instanceof UnknownReferenceError)
        err(unknownRef.code, `${label}: ${unknownRef.message}`, where);
      else
        err(
          error instanceof QualityError && error.code === 'UNKNOWN_TEST' ? 'UNKNOWN_TEST' : 'CONFIG_ERROR',
          `${label}: ${(error as Error).message}`,
          where,
        );
      return;
    }
    addTestNode(
      {
        name: compiled.name,
        resourceType: 'test',
        packageName: pkg,
        ...(file ? { file } : {}),
        fqn: [pkg, compiled.name],
        tags: [],
        dependsOn: [...deps],
        testKind: 'generic',
        attachedNode: attached.uniqueId,
        ...(decl.column !== undefined ? { columnName: decl.column } : {}),
        severity: compiled.severity,
        compiled,
        sqlTemplate,
      },
      [attached.uniqueId, decl],
    );
  };

  for (const src of inputs.models) {
    const node = nodes[`model.${pkg}.${src.name}`];
    if (node?.resourceType !== 'model') continue;
    for (const decl of src.tests) compileDeclared(decl, node, src.testsFile ?? src.file);
  }
  for (const seed of inputs.seeds) {
    const node = nodes[`seed.${pkg}.${seed.name}`];
    if (node?.resourceType !== 'seed') continue;
    for (const decl of seed.tests) compileDeclared(decl, node, seed.testsFile ?? seed.file);
  }
  for (const s of inputs.sources) {
    const node = sourceIds.get(`${s.sourceName}.${s.name}`);
    if (!node) continue;
    for (const decl of s.tests)
      compileDeclared(decl, { ...node, name: `${s.sourceName}_${s.name}` }, s.file, 'source');
  }
  for (const t of inputs.singular) {
    const where = { node: t.name, ...(t.file ? { file: t.file } : {}) };
    /**
     * Renders the test with `ref()` / `source()` resolved by {@link testResolver}; with `self`,
     * every reference to that node renders as {@link RELATION_PLACEHOLDER} instead.
     */
    const renderWith = (deps: Set<string>, refs: string[], self?: string): string | undefined => {
      const resolve = testResolver(deps, self);
      try {
        return t.render({
          ref: (n) => {
            refs.push(n);
            return resolve(n);
          },
          source: (s, tb) => resolve(`source('${s}', '${tb}')`),
          config: () => undefined,
          var: varFn,
          thisRelation: '',
          isIncremental: false,
        });
      } catch (error) {
        if (error instanceof UnknownReferenceError) {
          err(error.code, `test ${t.name}: ${error.message}`, where);
          return undefined;
        }
        const prob = templateProblem(error, t.file ?? t.name, t.rawSql);
        err('TEMPLATE_ERROR', prob.message, { ...where, ...(prob.line ? { line: prob.line } : {}) });
        return undefined;
      }
    };
    const deps = new Set<string>();
    const refs: string[] = [];
    let body = renderWith(deps, refs);
    if (body === undefined) continue;
    const attached = deps.size === 1 ? ([...deps][0] as string) : undefined;
    const attachedNode = attached ? nodes[attached] : undefined;
    // A test of exactly one model / seed can run as its write-audit-publish audit. Render it again
    // with that node's ref() as the placeholder token, so the run can point it at the temp relation
    // (or the published one) by replacing the token: never by searching the SQL for a relation name.
    const auditable = attachedNode?.resourceType === 'model' || attachedNode?.resourceType === 'seed';
    if (auditable) {
      body = renderWith(new Set<string>(), [], attached);
      if (body === undefined) continue;
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
      err('CONFIG_ERROR', `test ${t.name}: ${(error as Error).message}`, where);
      continue;
    }
    const compiled: CompiledTest =
      auditable && attachedNode
        ? { ...template, sql: template.sql.split(RELATION_PLACEHOLDER).join(attachedNode.relation.sql) }
        : template;
    addTestNode(
      {
        name: t.name,
        resourceType: 'test',
        packageName: pkg,
        ...(t.file ? { file: t.file } : {}),
        fqn: [pkg, t.name],
        tags: [],
        dependsOn: [...deps],
        testKind: 'singular',
        ...(attached ? { attachedNode: attached } : {}),
        severity: compiled.severity,
        compiled,
        ...(auditable ? { sqlTemplate: template.sql } : {}),
      },
      [t.name, t.file],
    );
  }

  const graph: CompiledGraph = {
    projectName: pkg,
    targetSchema: target,
    ...(inputs.rootDir ? { rootDir: inputs.rootDir } : {}),
    generatedAt: new Date().toISOString(),
    nodes,
    ...buildEdgeMaps(nodes),
  };
  return { graph, diagnostics };
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

class UnknownReferenceError extends Error {
  constructor(
    readonly code: 'UNKNOWN_REF' | 'UNKNOWN_SOURCE',
    message: string,
  ) {
    super(message);
  }
}
