import { spawn } from 'node:child_process';
import type { WorkerSpec } from './ingest-worker.js';

const WORKER = new URL('./ingest-worker.ts', import.meta.url).pathname;

/** Runs the worker in its own node process; resolves with its exit code, signal and JSON line. */
export function runWorker(
  spec: WorkerSpec,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', WORKER, JSON.stringify(spec)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out: out.trim() || err.trim().split('\n').slice(-3).join(' | ') });
    });
  });
}
