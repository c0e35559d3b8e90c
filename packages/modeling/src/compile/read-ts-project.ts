import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ModelContext, ModelDefinition, ProjectDefinition } from '../define.js';
import type { RenderScope } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import { collectTests } from '../schema-yml.js';
import { _relationRef } from '../sql-fragment.js';
import type { DiagnosticSink } from './diagnostics.js';
import type { ProjectInputs } from './inputs.js';

/** The `ctx` a TypeScript model's `sql()` receives, over one render's scope. */
export function tsModelContext(scope: RenderScope): ModelContext {
  return {
    ref: (name: string) => _relationRef(name, scope.ref(name)),
    source: (s: string, t: string) => _relationRef(`${s}.${t}`, scope.source(s, t)),
    self: _relationRef('this', scope.thisRelation),
    isIncremental: scope.isIncremental,
    var: <T>(name: string, defaultValue?: T) =>
      scope.var(name, defaultValue, defaultValue !== undefined) as T,
  };
}

/** A TS definition's settings as the config layer an inline `config()` call would be. */
export function tsConfigLayer(def: ModelDefinition): ConfigLayer {
  const inline: ConfigLayer = {};
  if (def.materialized) inline.materialized = def.materialized;
  if (def.uniqueKey) inline.unique_key = def.uniqueKey;
  if (def.incrementalStrategy) inline.incremental_strategy = def.incrementalStrategy;
  if (def.schema) inline.schema = def.schema;
  if (def.alias) inline.alias = def.alias;
  if (def.tags) inline.tags = def.tags;
  return inline;
}

/**
 * Parse phase of a TypeScript project from `defineProject()`. Seed paths are resolved against
 * `dir` (else the working directory).
 *
 * @example
 * const inputs = readTsProject(project, undefined, createDiagnosticSink());
 */
export function readTsProject(
  project: ProjectDefinition,
  dir: string | undefined,
  diagnostics: DiagnosticSink,
): ProjectInputs {
  const inputs: ProjectInputs = {
    name: project.name,
    ...(dir ? { rootDir: resolvePath(dir) } : {}),
    vars: project.vars,
    models: [],
    seeds: [],
    sources: [],
    singular: [],
  };
  for (const def of project.models) {
    const report = diagnostics.at(def.name);
    const { tests, columns } = collectTests({ tests: def.tests, columns: def.columns }, (m) =>
      report.error('CONFIG_ERROR', m),
    );
    const folders = def.path ? def.path.split('/').slice(1, -1) : [];
    inputs.models.push({
      name: def.name,
      ...(def.path ? { file: def.path } : {}),
      fqn: [project.name, ...folders, def.name],
      layers: [],
      inline: tsConfigLayer(def),
      ...(def.description ? { description: def.description } : {}),
      columns,
      tests,
      render: (scope) => String(def.sql(tsModelContext(scope) as ModelContext<never>)),
    });
  }
  for (const seed of project.seeds) {
    const report = diagnostics.at(seed.name);
    const { tests } = collectTests({ columns: seed.columns }, (m) => report.error('CONFIG_ERROR', m));
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
      render: (scope) => String(t.sql(tsModelContext(scope))),
    });
  }
  return inputs;
}
