/**
 * Benchmark of slim CI's cost in @dataflow/modeling (no database):
 *   node --conditions=source --import tsx bench/modeling/state-bench.ts [--models 1000] [--runs 5]
 *
 * Generates a project of N models (each refs up to two earlier ones, one not_null test each) and one
 * 1 MB seed, then times, per run: compileProject() (the baseline every build pays), graphChecksums()
 * (seed file streamed), writeManifest() (manifest.json with those checksums: what every build now
 * writes), writeArtifacts() (manifest + compiled SQL files: `dataflow compile`) and
 * selectNodes('state:modified+') against the previous manifest with one changed model. Prints medians
 * and each as a ratio of the compile.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type CompiledGraph,
  compileProject,
  graphChecksums,
  parseStateManifest,
  selectNodes,
  writeArtifacts,
  writeManifest,
} from '@dataflow/modeling';
import { median } from '../stats.js';

const { values } = parseArgs({
  options: { models: { type: 'string', default: '1000' }, runs: { type: 'string', default: '5' } },
});
const MODELS = Number(values.models);
const RUNS = Number(values.runs);

async function generate(dir: string): Promise<void> {
  await mkdir(join(dir, 'models'), { recursive: true });
  await mkdir(join(dir, 'seeds'), { recursive: true });
  await writeFile(join(dir, 'dbt_project.yml'), 'name: bench\nmodels:\n  bench:\n    +materialized: table\n');
  const rows = Array.from({ length: 40_000 }, (_, i) => `${i},name_${i}_padding_padding`).join('\n');
  await writeFile(join(dir, 'seeds', 'big_seed.csv'), `id,name\n${rows}\n`);
  const yml: string[] = ['version: 2', 'models:'];
  for (let i = 0; i < MODELS; i++) {
    const refs = i === 0 ? ["{{ ref('big_seed') }}"] : [`{{ ref('m${i - 1}') }}`];
    if (i > 10) refs.push(`{{ ref('m${i - 10}') }}`);
    const from = refs.map((r, k) => `${k === 0 ? 'from' : 'join'} ${r} t${k}${k === 0 ? '' : ' using (id)'}`);
    await writeFile(join(dir, 'models', `m${i}.sql`), `select t0.id, t0.name\n${from.join('\n')}\n`);
    yml.push(`  - name: m${i}`, '    columns:', '      - name: id', '        data_tests: [not_null]');
  }
  await writeFile(join(dir, 'models', 'schema.yml'), `${yml.join('\n')}\n`);
}

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'state-bench-'));
  try {
    await generate(dir);
    const compileMs: number[] = [];
    const checksumMs: number[] = [];
    const writeMs: number[] = [];
    const manifestMs: number[] = [];
    const selectMs: number[] = [];
    let selected = 0;
    for (let run = 0; run < RUNS; run++) {
      const [c, result] = await time(() => compileProject({ dir, schema: 'analytics' }));
      const graph: CompiledGraph = result.graph;
      compileMs.push(c);
      const [h, current] = await time(() => graphChecksums(graph));
      checksumMs.push(h);
      const target = join(dir, `target-${run}`);
      const [m] = await time(() =>
        writeManifest(join(dir, `manifest-${run}`), graph, { checksums: current }),
      );
      manifestMs.push(m);
      const [w] = await time(() => writeArtifacts(target, graph));
      writeMs.push(w);
      const previous = parseStateManifest(
        JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')),
        'manifest.json',
      );
      // One changed model halfway down the chain.
      const mid = `model.bench.m${Math.floor(MODELS / 2)}`;
      const prevMid = previous.nodes[mid];
      if (prevMid?.checksums) prevMid.checksums = { ...prevMid.checksums, body: 'changed' };
      const [s, ids] = await time(async () =>
        selectNodes(graph, { select: ['state:modified+'], state: { previous, current } }),
      );
      selectMs.push(s);
      selected = ids.length;
    }
    const base = median(compileMs);
    const line = (name: string, xs: number[]) =>
      `${name.padEnd(34)} ${median(xs).toFixed(1).padStart(9)} ms   ${(median(xs) / base).toFixed(3)}x compile`;
    console.log(`models ${MODELS} (+${MODELS} tests, 1 seed of ~1 MB), runs ${RUNS}, medians`);
    console.log(line('compileProject (baseline)', compileMs));
    console.log(line('graphChecksums', checksumMs));
    console.log(line('writeManifest (reusing checksums)', manifestMs));
    console.log(line('writeArtifacts (manifest+compiled)', writeMs));
    console.log(line(`selectNodes state:modified+ (${selected})`, selectMs));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
