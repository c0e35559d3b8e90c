/**
 * Compile rate of dbt projects (issue 11's measure): for each project directory given, compiles it
 * offline (`execute` false, no database) and counts the root project's model files that compiled
 * with no error diagnostic.
 *   node --conditions=source --import tsx bench/modeling/corpus-compile.ts [--verbose] [--json] [--vars '<yaml>'] <dir>...
 * `--vars` is given to every project listed, as `dbt compile --vars` would be (e.g. the vars that
 * enable a package's optional marts). `--package <name>` also counts the models of that installed
 * package (a package such as tuva is run through a project that installs it).
 *
 * A model file counts as
 * - `ok`: it is in the compiled graph and no error diagnostic names its file or node;
 * - `error`: an error diagnostic names its file or node (or the whole compile threw);
 * - `absent`: neither (disabled by config, or dropped: listed so a silent drop is visible).
 * The rate is ok / (ok + error). Packages' own models (in `dbt_packages/`) are not counted.
 * Install packages first (`dataflow deps`, or link `dbt_packages/`), as `dbt deps` would.
 */
import { readdir } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { compileProject, type Diagnostic } from '@dataflow/modeling';
import { parse as parseYaml } from 'yaml';
import { JinjaEnvironment } from '../../packages/modeling/src/jinja.js';
import { readProjectFile } from '../../packages/modeling/src/project-files.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    verbose: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    vars: { type: 'string' },
    package: { type: 'string', multiple: true, default: [] },
  },
});

const cliVars = values.vars ? (parseYaml(values.vars) as Record<string, unknown>) : undefined;

interface ProjectReport {
  project: string;
  ok: number;
  error: number;
  absent: number;
  rate: number;
  errors: Array<{ file: string; message: string }>;
  projectErrors: string[];
}

async function modelFiles(dir: string, sub = ''): Promise<string[]> {
  // Paths as compile reads them: `model-paths` may hold Jinja (`{{ env_var('SYNC_NAME') }}/models`).
  const jinja = new JinjaEnvironment({ schema: 'analytics' });
  const project = await readProjectFile(join(dir, sub), (text, file) => jinja.renderText(text, file));
  const files: string[] = [];
  for (const p of project.modelPaths) {
    let entries: string[] = [];
    try {
      entries = await readdir(join(dir, sub, p), { recursive: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.endsWith('.sql'))
        files.push(
          relative(dir, join(dir, sub, p, e))
            .split(sep)
            .join('/'),
        );
    }
  }
  return files.sort();
}

async function measure(dir: string): Promise<ProjectReport> {
  const files = await modelFiles(dir);
  for (const name of values.package) files.push(...(await modelFiles(dir, join('dbt_packages', name))));
  const report: ProjectReport = {
    project: basename(dir),
    ok: 0,
    error: 0,
    absent: 0,
    rate: 0,
    errors: [],
    projectErrors: [],
  };
  let diagnostics: Diagnostic[] = [];
  const inGraph = new Map<string, string>();
  try {
    const result = await compileProject({ dir, schema: 'analytics', ...(cliVars ? { vars: cliVars } : {}) });
    diagnostics = result.diagnostics;
    for (const node of Object.values(result.graph.nodes)) {
      if (node.resourceType === 'model' && node.file) inGraph.set(node.file, node.uniqueId);
    }
  } catch (error) {
    report.error = files.length;
    report.projectErrors.push((error as Error).message.split('\n')[0] ?? String(error));
    return report;
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  for (const d of errors) {
    if (!d.file && !d.node) report.projectErrors.push(`${d.code}: ${d.message.split('\n')[0]}`);
  }
  for (const file of files) {
    const id = inGraph.get(file);
    const name = basename(file, '.sql');
    const own = errors.find(
      (d) => d.file === file || (id !== undefined && d.node === id) || d.node?.endsWith(`.${name}`),
    );
    if (own) {
      report.error++;
      report.errors.push({ file, message: `${own.code}: ${own.message.split('\n')[0]}` });
    } else if (id) report.ok++;
    else report.absent++;
  }
  report.rate = report.ok + report.error === 0 ? 1 : report.ok / (report.ok + report.error);
  return report;
}

const reports: ProjectReport[] = [];
for (const dir of positionals) reports.push(await measure(dir));
if (values.json) {
  console.log(JSON.stringify(reports, null, 2));
} else {
  for (const r of reports) {
    console.log(
      `${r.project.padEnd(40)} ok ${String(r.ok).padStart(5)}  error ${String(r.error).padStart(5)}  absent ${String(r.absent).padStart(4)}  ${(r.rate * 100).toFixed(1)} %`,
    );
    for (const e of r.projectErrors) console.log(`    project: ${e}`);
    if (values.verbose) for (const e of r.errors) console.log(`    ${e.file}: ${e.message}`);
  }
  const ok = reports.reduce((s, r) => s + r.ok, 0);
  const error = reports.reduce((s, r) => s + r.error, 0);
  console.log(
    `total: ${ok} / ${ok + error} models compile (${((ok / Math.max(1, ok + error)) * 100).toFixed(1)} %)`,
  );
}
