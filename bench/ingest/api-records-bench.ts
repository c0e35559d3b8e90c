/**
 * API records benchmark: what typed-record inference, cursor windows, flattening and JSONPath
 * cost per record. A loopback server serves N generated records in pages of 1,000; each variant
 * lands them into an fs lake (no gzip) and the script prints CPU per record and the ratio to the
 * plain run of the same script. A micro-benchmark compares the schema inference of a record with
 * its JSON serialisation (the work a plain run does per record anyway).
 *
 *   node --conditions=source --import tsx bench/ingest/api-records-bench.ts [--records 200000]
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  createFsStore,
  dailyInterval,
  type IngestApiOptions,
  ingestApi,
  RecordSchemaInferrer,
  windowPartition,
} from '@dataflow/ingest';

const { values } = parseArgs({ options: { records: { type: 'string', default: '200000' } } });
const total = Number(values.records);
const PAGE = 1000;

const record = (i: number) => ({
  id: i,
  amount: (i * 37) / 100,
  paid: i % 3 === 0,
  updated_at: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
  customer: { id: i % 5000, name: `customer ${i % 5000}`, geo: { country: 'DE', zip: '10115' } },
  tags: ['a', 'b'],
});
const pages = Array.from({ length: Math.ceil(total / PAGE) }, (_, p) =>
  JSON.stringify(
    Array.from({ length: Math.min(PAGE, total - p * PAGE) }, (_, j) => record(p * PAGE + j + 1)),
  ),
);

const server = createServer((req, res) => {
  const page = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('page') ?? '1');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(pages[page - 1] ?? '[]');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/records`;
const dir = await mkdtemp(join(tmpdir(), 'api-records-bench-'));

async function variant(name: string, over: Partial<IngestApiOptions>): Promise<number> {
  const cpu0 = process.cpuUsage();
  const m = await ingestApi({
    source: 'records',
    interval: dailyInterval('2024-01-01'),
    store: createFsStore({ root: join(dir, name.replace(/\W+/g, '-')) }),
    request: { url },
    paginate: { type: 'page', pageSize: PAGE },
    gzip: false,
    ...over,
  });
  const cpu = process.cpuUsage(cpu0);
  const us = (cpu.user + cpu.system) / m.rows;
  if (m.rows !== total) throw new Error(`${name}: ${m.rows} rows, expected ${total}`);
  return us;
}

const incremental = {
  cursorPath: 'updated_at',
  param: 'since',
  initialValue: '2023-01-01T00:00:00Z',
  primaryKey: ['id'],
};
await variant('warm-up', {});
const runs: Array<[string, Partial<IngestApiOptions>]> = [
  ['plain (inference always on)', {}],
  ['incremental (cursor + key)', { incremental, partition: windowPartition() }],
  [
    'incremental, JSONPath cursor',
    {
      incremental: { ...incremental, cursorPath: '$.updated_at', primaryKey: ['$.id'] },
      partition: windowPartition(),
    },
  ],
  ['nested: flatten 2', { nested: { flatten: 2 } }],
];
const results: Array<[string, number]> = [];
for (const [name, over] of runs) results.push([name, await variant(name, over)]);
const base = results[0]?.[1] ?? 1;
console.log(`records: ${total}, pages of ${PAGE}, fs lake, no gzip; CPU of the whole process per record`);
for (const [name, us] of results)
  console.log(`${name.padEnd(32)} ${us.toFixed(2).padStart(7)} µs/record  ×${(us / base).toFixed(2)}`);

// Micro: inference vs the JSON serialisation every run does per record.
const sample = Array.from({ length: 100_000 }, (_, i) => record(i));
let t0 = process.cpuUsage();
let chars = 0;
for (const r of sample) chars += JSON.stringify(r).length;
const stringifyUs = process.cpuUsage(t0).user / sample.length;
t0 = process.cpuUsage();
const inferrer = new RecordSchemaInferrer();
for (const r of sample) inferrer.add(r);
const inferUs = process.cpuUsage(t0).user / sample.length;
console.log(
  `JSON.stringify ${stringifyUs.toFixed(3)} µs/record (${chars} chars); schema inference ${inferUs.toFixed(3)} µs/record ×${(inferUs / stringifyUs).toFixed(2)}`,
);

server.close();
await rm(dir, { recursive: true, force: true });
