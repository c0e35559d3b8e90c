/**
 * Ingest throughput benchmark (not a test).
 *
 *   node --conditions=source --import tsx bench/ingest/ingest-bench.ts --mb 1024 [--small-mb 128] [--gzip-level 1] [--s3 child|inprocess]
 *
 * Generates a deterministic CSV of the given size (streamed to disk), starts s3rver (default: in
 * a child process, so peak RSS is the pipeline's own; `--s3 inprocess` runs it in this process;
 * DATAFLOW_TEST_S3_ENDPOINT uses an external server), then measures, for the small and full size:
 * bare streamed S3 upload (lib-storage Upload of fs.createReadStream), bare fs copy, and ingestCsv
 * into the S3 store and the fs store with gzip off and on. Prints MB/s (of input CSV bytes),
 * the ingest/bare ratio and peak RSS sampled every 100 ms during each phase.
 */

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createFsStore, createS3Store, dailyInterval, ingestCsv, type ObjectStore } from '@dataflow/ingest';
import type { S3ServerHandle } from '@dataflow/testkit';

type ServerInfo = Omit<S3ServerHandle, 'stop'> & { stop(): Promise<void> };

/** Starts s3rver in a child process (same node flags) and reads its endpoint from stdout. */
async function startChildS3(): Promise<ServerInfo> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, new URL('./s3-server-child.ts', import.meta.url).pathname],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = await Promise.race([
    (async () => {
      for await (const l of createInterface({ input: child.stdout })) return [l];
      throw new Error('s3 child exited before printing its endpoint');
    })(),
  ]);
  const info = JSON.parse(line as string) as Omit<S3ServerHandle, 'stop'>;
  return {
    ...info,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '1024' },
    'small-mb': { type: 'string', default: '128' },
    'gzip-level': { type: 'string', default: '1' },
    s3: { type: 'string', default: 'child' },
    repeat: { type: 'string', default: '1' },
  },
});
const sizesMb = [Number(values['small-mb']), Number(values.mb)].filter(
  (n, i, a) => n > 0 && a.indexOf(n) === i,
);
const gzipLevel = Number(values['gzip-level']);
const repeat = Math.max(1, Number(values.repeat));
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE = 4;

/** Writes a deterministic CSV of at least `bytes` bytes, in 1 MiB chunks. */
async function generateCsv(path: string, bytes: number): Promise<number> {
  let written = 0;
  let i = 0;
  const rows = async function* (): AsyncGenerator<string> {
    const header = 'id,customer,address,amount,created_at,active,note\n';
    written += header.length;
    yield header;
    while (written < bytes) {
      let chunk = '';
      while (chunk.length < 1 << 20) {
        i++;
        const sec = String(i % 60).padStart(2, '0');
        chunk += `${i},customer_${i % 9973},"${i % 500} Main St, Springfield",${((i * 37) % 100000) / 100},2024-01-01T10:${String(i % 60).padStart(2, '0')}:${sec}Z,${i % 2 === 0},"note ""${i % 7}"""\n`;
      }
      written += chunk.length;
      yield chunk;
    }
  };
  await pipeline(rows(), createWriteStream(path, { highWaterMark: 1 << 20 }));
  return (await stat(path)).size;
}

/** Runs `fn` while sampling RSS every 100 ms; returns wall and CPU seconds of this process and peak RSS (MB). */
async function measure(
  fn: () => Promise<unknown>,
): Promise<{ seconds: number; cpuSeconds: number; peakRssMb: number }> {
  globalThis.gc?.();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const used = process.cpuUsage(cpu);
  peak = Math.max(peak, process.memoryUsage().rss);
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: peak / 1e6,
  };
}

async function emptyStore(store: ObjectStore): Promise<void> {
  const keys: string[] = [];
  for await (const o of store.list('')) keys.push(o.key);
  await store.delete(keys);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'dataflow-ingest-bench-'));
  const external = process.env.DATAFLOW_TEST_S3_ENDPOINT;
  const server: ServerInfo | undefined = external
    ? undefined
    : values.s3 === 'inprocess'
      ? await (await import('@dataflow/testkit')).startS3Server({ bucket: 'bench' })
      : await startChildS3();
  const endpoint = external ?? (server?.endpoint as string);
  const bucket = server?.bucket ?? process.env.DATAFLOW_TEST_S3_BUCKET ?? 'bench';
  const credentials = {
    accessKeyId: server?.accessKeyId ?? process.env.AWS_ACCESS_KEY_ID ?? 'minioadmin',
    secretAccessKey: server?.secretAccessKey ?? process.env.AWS_SECRET_ACCESS_KEY ?? 'minioadmin',
  };
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const s3Store = createS3Store({ client, bucket, prefix: 'ingest', partSize: PART_SIZE, queueSize: QUEUE });
  const fsStore = createFsStore({ root: join(work, 'lake') });
  console.log(
    `node ${process.version}, s3 ${external ? `external ${endpoint}` : `s3rver ${values.s3 === 'inprocess' ? 'in this process' : 'in a child process'}`}, part ${PART_SIZE >> 20} MiB × ${QUEUE}, gzip level ${gzipLevel}, ${(await import('node:os')).cpus().length} CPUs, load avg ${(
      await import('node:os')
    )
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`baseline RSS after start-up: ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
  try {
    for (const mb of sizesMb) {
      const input = join(work, `input-${mb}.csv`);
      const size = await generateCsv(input, mb * 1024 * 1024);
      const mbOf = size / 1e6;
      console.log(`\n== input ${mbOf.toFixed(1)} MB (${size} bytes)`);
      // The machine is shared: with --repeat N each phase runs N times and the fastest run counts.
      const run = async (name: string, fn: () => Promise<unknown>, bare?: number) => {
        let r = await measure(fn);
        for (let k = 1; k < repeat; k++) {
          const again = await measure(fn);
          r = {
            seconds: Math.min(r.seconds, again.seconds),
            cpuSeconds: Math.min(r.cpuSeconds, again.cpuSeconds),
            peakRssMb: Math.max(r.peakRssMb, again.peakRssMb),
          };
        }
        const mbps = mbOf / r.seconds;
        const ratio = bare !== undefined ? `  ratio ${(mbps / bare).toFixed(2)}× bare` : '';
        console.log(
          `${name.padEnd(30)} ${r.seconds.toFixed(2).padStart(7)} s ${mbps.toFixed(1).padStart(7)} MB/s  cpu ${r.cpuSeconds.toFixed(2).padStart(6)} s (${(mbOf / r.cpuSeconds).toFixed(0).padStart(4)} MB/cpu-s)  peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB${ratio}`,
        );
        return mbps;
      };
      const bareS3 = await run('bare S3 upload (lib-storage)', async () => {
        const upload = new Upload({
          client,
          partSize: PART_SIZE,
          queueSize: QUEUE,
          params: {
            Bucket: bucket,
            Key: 'bare/input.csv',
            Body: createReadStream(input, { highWaterMark: 1 << 20 }),
          },
        });
        await upload.done();
      });
      const bareFs = await run('bare fs copy (stream)', async () => {
        await mkdir(join(work, 'bare'), { recursive: true });
        await pipeline(
          createReadStream(input, { highWaterMark: 1 << 20 }),
          createWriteStream(join(work, 'bare', 'copy.csv')),
        );
      });
      await rm(join(work, 'bare'), { recursive: true, force: true });
      for (const gzip of [false, true]) {
        for (const [label, store, bare] of [
          ['s3', s3Store, bareS3],
          ['fs', fsStore, bareFs],
        ] as const) {
          await run(
            `ingestCsv → ${label}, gzip ${gzip ? 'on ' : 'off'}`,
            async () => {
              await emptyStore(store);
              const m = await ingestCsv({
                source: 'bench',
                location: input,
                interval: dailyInterval('2024-01-01'),
                store,
                options: { gzip, gzipLevel },
              });
              if (m.bytes <= 0) throw new Error('nothing written');
            },
            bare,
          );
          await emptyStore(store);
        }
      }
      await emptyStore(createS3Store({ client, bucket, prefix: 'bare' }));
      await rm(input, { force: true });
    }
    console.log(
      `load avg at end: ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    client.destroy();
    await server?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
