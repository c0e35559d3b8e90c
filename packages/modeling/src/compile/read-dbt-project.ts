import { existsSync, readFileSync } from 'node:fs';
import { basename, join, posix, resolve as resolvePath } from 'node:path';
import { type JinjaEnvironment, outputsContextDirectly } from '../jinja.js';
import {
  type ConfigLayer,
  folderConfigLayers,
  listFiles,
  type ProjectFile,
  readProjectFile,
} from '../project-files.js';
import {
  NOT_RUN_KINDS,
  type NotRunKind,
  parseSchemaYml,
  type SchemaYml,
  type YmlModel,
  type YmlSourceTable,
} from '../schema-yml.js';
import { extractSnapshotBlocks } from '../snapshot/parse.js';
import type { FixtureReader, UnitTestDeclaration } from '../unit-test/parse.js';
import type { DiagnosticSink } from './diagnostics.js';
import { hookList } from './hooks.js';
import type {
  ModelSource,
  PackageInputs,
  ProjectInputs,
  SeedSource,
  SingularSource,
  SnapshotSource,
} from './inputs.js';
import { findInstalledPackages, type ProjectPart } from './read-packages.js';

/**
 * Reads project source files (SQL, yml: small text, not data). Synchronously on purpose: compiling
 * is CPU-bound and blocks the event loop for far longer anyway, and one read costs ~10 µs this way
 * against ~70 µs through `fs/promises` (open, stat, read, close on the thread pool).
 */
const readSource = (root: string, file: string): string => readFileSync(join(root, file), 'utf8');

/** What the schema.yml files of a project declare. */
export interface YmlDeclarations {
  models: Map<string, YmlModel>;
  seeds: Map<string, YmlModel>;
  sources: YmlSourceTable[];
  snapshots: Map<string, SchemaYml['snapshots'][number]>;
  unitTests: UnitTestDeclaration[];
  /** Declared resources of kinds dataflow does not run, by kind, with the files declaring them. */
  notRun: Map<NotRunKind, { names: string[]; files: Set<string> }>;
}

/**
 * Parse phase of a dbt-style project directory: macros into `jinja`, then schema.yml, models,
 * seeds and singular tests. Problems go to `diagnostics`; only a missing or invalid project file
 * throws.
 *
 * @example
 * const inputs = await readDbtProject('examples/jaffle_shop', jinja, createDiagnosticSink());
 */
export async function readDbtProject(
  dir: string,
  jinja: JinjaEnvironment,
  diagnostics: DiagnosticSink,
): Promise<ProjectInputs> {
  const root = resolvePath(dir);
  const pf = await readProjectFile(root, (text, file) => jinja.renderText(text, file));
  const rootPart: ProjectPart = {
    prefix: '',
    pf,
    layers: (tree, parts) => folderConfigLayers(pf[tree], pf.name, parts),
  };
  jinja.env.loader = projectTemplateLoader(root, pf.macroPaths);
  const packages = await findInstalledPackages(root, pf, diagnostics);
  for (const part of packages) await loadMacros(root, part, jinja, diagnostics);
  await loadMacros(root, rootPart, jinja, diagnostics);
  jinja.configureDispatch({ rootProject: pf.name, dispatch: pf.dispatch });
  jinja.describeProject(
    pf,
    packages.map((p) => p.pf),
  );
  const packageInputs: PackageInputs[] = [];
  const packageModels: ModelSource[] = [];
  const packageSeeds: SeedSource[] = [];
  const packageSources: YmlSourceTable[] = [];
  for (const part of packages) {
    const own = await readSchemaFiles(root, partDirs(part), diagnostics);
    packageModels.push(...(await readModels(root, part, own.models, jinja)));
    packageSeeds.push(...(await readSeeds(root, part, own.seeds)));
    packageSources.push(...own.sources);
    packageInputs.push({ name: part.pf.name, dir: part.prefix, vars: part.pf.vars });
  }
  const yml = await readSchemaFiles(
    root,
    [...partDirs(rootPart), ...pf.snapshotPaths],
    diagnostics,
    fixtureReader(root, pf.testPaths),
  );
  const models = await readModels(root, rootPart, yml.models, jinja);
  // readModels takes the entries it uses: the rest describe models that do not exist.
  for (const [name, entry] of yml.models) {
    diagnostics.warning('CONFIG_ERROR', `${entry.file} describes model ${name}, which has no .sql file`, {
      file: entry.file,
      node: name,
    });
  }
  reportNotRun(yml.notRun, diagnostics);
  return {
    name: pf.name,
    rootDir: root,
    vars: pf.vars,
    onRunStart: hookList(pf.onRunStart),
    onRunEnd: hookList(pf.onRunEnd),
    models: [...packageModels, ...models],
    seeds: [...packageSeeds, ...(await readSeeds(root, rootPart, yml.seeds))],
    sources: [...packageSources, ...yml.sources],
    singular: await readSingularTests(root, pf, jinja),
    ...(packageInputs.length > 0 ? { packages: packageInputs } : {}),
    snapshots: await readSnapshots(root, pf, yml.snapshots, jinja, diagnostics),
    unitTests: yml.unitTests,
    testConfigLayers: (file) => testConfigLayers(pf, file),
  };
}

/**
 * dbt's test fqn under the project: the folders of the declaring file below its resource path
 * (`models/staging/schema.yml` → `staging`), and a singular test's own name.
 */
function testConfigLayers(pf: ProjectFile, file: string): ConfigLayer[] {
  const roots = [...pf.modelPaths, ...pf.seedPaths, ...pf.snapshotPaths, ...pf.testPaths];
  const base = roots.find((r) => file.startsWith(`${r.replace(/\/+$/, '')}/`));
  if (base === undefined) return folderConfigLayers(pf.tests, pf.name, []);
  const parts = file.slice(base.replace(/\/+$/, '').length + 1).split('/');
  const last = parts.pop() as string;
  if (last.endsWith('.sql')) parts.push(last.slice(0, -4));
  return folderConfigLayers(pf.tests, pf.name, parts);
}

/**
 * What `{% include %}`, `{% import %}` and `{% extends %}` load: a file by its path from the project
 * root, else from a macro path; never outside the project.
 */
function projectTemplateLoader(root: string, macroPaths: string[]): (name: string) => string | undefined {
  return (name) => {
    for (const base of ['', ...macroPaths]) {
      const path = posix.normalize(posix.join(base, name));
      if (path.startsWith('../') || posix.isAbsolute(path)) continue;
      if (existsSync(join(root, path))) return readSource(root, path);
    }
    return undefined;
  };
}

/** dbt's `fixture:` files: `<test path>/fixtures/<name>.csv` or `.sql`. */
function fixtureReader(root: string, testPaths: string[]): FixtureReader {
  return (name) => {
    for (const dir of testPaths)
      for (const format of ['csv', 'sql'] as const) {
        const file = `${dir}/fixtures/${name}.${format}`;
        if (existsSync(join(root, file))) return { format, text: readSource(root, file) };
      }
    return undefined;
  };
}

/** One warning line per kind of declared resource that is parsed but not run: never dropped silently. */
export function reportNotRun(notRun: YmlDeclarations['notRun'], diagnostics: DiagnosticSink): void {
  for (const kind of NOT_RUN_KINDS) {
    const seen = notRun.get(kind);
    if (!seen) continue;
    const shown = seen.names.slice(0, 5).join(', ') + (seen.names.length > 5 ? ', …' : '');
    const what = kind === 'versions' ? 'model versions' : kind.replace('_', ' ');
    diagnostics.warning(
      'CONFIG_ERROR',
      `${seen.names.length} ${what} parsed but not run by dataflow (${shown}) in ${[...seen.files].join(', ')}`,
      { file: [...seen.files][0] as string },
    );
  }
}

const partDirs = (part: ProjectPart) =>
  [...part.pf.modelPaths, ...part.pf.seedPaths].map((d) => posix.join(part.prefix, d));

async function loadMacros(
  root: string,
  part: ProjectPart,
  jinja: JinjaEnvironment,
  diagnostics: DiagnosticSink,
) {
  const { pf, prefix } = part;
  for (const macroDir of [...pf.macroPaths, ...pf.testPaths.map((t) => `${t}/generic`)]) {
    for (const file of await listFiles(root, posix.join(prefix, macroDir), ['.sql'])) {
      const p = jinja.loadMacros(readSource(root, file), file, part.packageName);
      if (p)
        diagnostics.error('TEMPLATE_ERROR', p.message, { file: p.file, ...(p.line ? { line: p.line } : {}) });
    }
  }
}

/** Reads every schema.yml under `dirs`; a model described twice is reported and the first kept. */
export async function readSchemaFiles(
  root: string,
  dirs: string[],
  diagnostics: DiagnosticSink,
  readFixture?: FixtureReader,
): Promise<YmlDeclarations> {
  const out: YmlDeclarations = {
    models: new Map(),
    seeds: new Map(),
    sources: [],
    snapshots: new Map(),
    unitTests: [],
    notRun: new Map(),
  };
  for (const ymlDir of new Set(dirs)) {
    for (const file of await listFiles(root, ymlDir, ['.yml', '.yaml'])) {
      const parsed = parseSchemaYml(readSource(root, file), file, readFixture);
      for (const p of parsed.problems)
        diagnostics.error('CONFIG_ERROR', p.message, { file: p.file, ...(p.line ? { line: p.line } : {}) });
      for (const m of parsed.models) {
        const prior = out.models.get(m.name);
        if (prior) {
          diagnostics.error('DUPLICATE_NAME', `model ${m.name} is described twice (also in ${prior.file})`, {
            file,
          });
          continue;
        }
        out.models.set(m.name, m);
      }
      for (const s of parsed.seeds) out.seeds.set(s.name, s);
      out.sources.push(...parsed.sources);
      for (const snapshot of parsed.snapshots) out.snapshots.set(snapshot.name, snapshot);
      out.unitTests.push(...parsed.unitTests);
      for (const [kind, names] of Object.entries(parsed.notRun) as [NotRunKind, string[]][]) {
        const seen = out.notRun.get(kind) ?? { names: [], files: new Set<string>() };
        seen.names.push(...names);
        seen.files.add(file);
        out.notRun.set(kind, seen);
      }
    }
  }
  return out;
}

async function readModels(
  root: string,
  part: ProjectPart,
  yml: Map<string, YmlModel>,
  jinja: JinjaEnvironment,
): Promise<ModelSource[]> {
  const models: ModelSource[] = [];
  const { pf } = part;
  for (const dir of pf.modelPaths) {
    const modelDir = posix.join(part.prefix, dir);
    for (const file of await listFiles(root, modelDir, ['.sql'])) {
      const rawSql = readSource(root, file);
      const name = basename(file, '.sql');
      const folders = file
        .slice(modelDir.length + 1)
        .split('/')
        .slice(0, -1);
      const entry = yml.get(name);
      yml.delete(name);
      models.push({
        name,
        file,
        ...(part.packageName ? { packageName: part.packageName } : {}),
        fqn: [pf.name, ...folders, name],
        rawSql,
        layers: [...part.layers('models', [...folders, name]), entry?.config ?? {}],
        inline: {},
        ...(part.rootLayers ? { rootLayers: part.rootLayers('models', [...folders, name]) } : {}),
        ...(entry?.description ? { description: entry.description } : {}),
        columns: entry?.columns ?? {},
        tests: entry?.tests ?? [],
        ...(entry ? { testsFile: entry.file } : {}),
        substitutable: outputsContextDirectly(rawSql),
        render: (scope) => jinja.render(rawSql, file, scope),
      });
    }
  }
  return models;
}

async function readSeeds(root: string, part: ProjectPart, yml: Map<string, YmlModel>): Promise<SeedSource[]> {
  const seeds: SeedSource[] = [];
  for (const dir of part.pf.seedPaths) {
    const seedDir = posix.join(part.prefix, dir);
    for (const file of await listFiles(root, seedDir, ['.csv'])) {
      const name = basename(file, '.csv');
      const folders = file
        .slice(seedDir.length + 1)
        .split('/')
        .slice(0, -1);
      const entry = yml.get(name);
      seeds.push({
        name,
        ...(part.packageName ? { packageName: part.packageName } : {}),
        file,
        absPath: join(root, file),
        layers: [
          ...part.layers('seeds', [...folders, name]),
          entry?.config ?? {},
          ...(part.rootLayers?.('seeds', [...folders, name]) ?? []),
        ],
        tests: entry?.tests ?? [],
        ...(entry ? { testsFile: entry.file, columns: entry.columns } : {}),
        ...(entry?.description !== undefined ? { description: entry.description } : {}),
      });
    }
  }
  return seeds;
}

async function readSingularTests(
  root: string,
  pf: ProjectFile,
  jinja: JinjaEnvironment,
): Promise<SingularSource[]> {
  const tests: SingularSource[] = [];
  for (const testDir of pf.testPaths) {
    for (const file of await listFiles(root, testDir, ['.sql'])) {
      if (file.startsWith(`${testDir}/generic/`)) continue;
      const rawSql = readSource(root, file);
      tests.push({
        name: basename(file, '.sql'),
        file,
        rawSql,
        render: (scope) => jinja.render(rawSql, file, scope),
      });
    }
  }
  return tests;
}

/**
 * Snapshot blocks of `snapshot-paths` SQL files, with the properties YAML gives them, then the
 * snapshots YAML defines by `relation` (dbt ≥ 1.9: `select * from` that relation).
 */
async function readSnapshots(
  root: string,
  pf: ProjectFile,
  yml: YmlDeclarations['snapshots'],
  jinja: JinjaEnvironment,
  diagnostics: DiagnosticSink,
): Promise<SnapshotSource[]> {
  const snapshots: SnapshotSource[] = [];
  const add = (name: string, file: string, rawSql: string, folders: string[], line?: number) => {
    const entry = yml.get(name);
    yml.delete(name);
    const key = `${file}#${name}`;
    snapshots.push({
      name,
      file,
      ...(line ? { line } : {}),
      fqn: [pf.name, ...folders, name],
      rawSql,
      layers: [...folderConfigLayers(pf.snapshots, pf.name, [...folders, name]), entry?.config ?? {}],
      ...(entry?.description ? { description: entry.description } : {}),
      columns: entry?.columns ?? {},
      tests: entry?.tests ?? [],
      ...(entry ? { testsFile: entry.file } : {}),
      render: (scope) => jinja.render(rawSql, key, scope),
    });
  };
  for (const dir of pf.snapshotPaths) {
    for (const file of await listFiles(root, dir, ['.sql'])) {
      const { blocks, problems } = extractSnapshotBlocks(readSource(root, file));
      for (const p of problems) diagnostics.error('CONFIG_ERROR', p.message, { file, line: p.line });
      const folders = file
        .slice(dir.length + 1)
        .split('/')
        .slice(0, -1);
      for (const block of blocks) add(block.name, file, block.body, folders, block.line);
    }
  }
  for (const [name, entry] of yml) {
    if (entry.relation) add(name, entry.file, `select * from {{ ${entry.relation} }}`, []);
    else
      diagnostics.warning(
        'CONFIG_ERROR',
        `${entry.file} describes snapshot ${name}, which has no block and no relation`,
        {
          file: entry.file,
          node: name,
        },
      );
  }
  return snapshots;
}
