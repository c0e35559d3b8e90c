import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { ModelingError } from '../errors.js';
import { pickVersion } from './version-range.js';

/** dbt's package hub; `installPackages({ hubUrl })` points elsewhere (a mirror, a test server). */
export const DEFAULT_HUB_URL = 'https://hub.getdbt.com';

const hubPackageSchema = z.looseObject({
  name: z.string(),
  versions: z.record(
    z.string(),
    z.looseObject({
      packages: z
        .array(z.looseObject({ package: z.string(), version: z.unknown() }))
        .nullish()
        .transform((v) => v ?? []),
      downloads: z.looseObject({ tarball: z.string().url() }),
    }),
  ),
});

/** What the hub says about one package (`GET /api/v1/<org>/<name>.json`). */
export type HubPackage = z.infer<typeof hubPackageSchema>;

function fail(message: string, cause?: unknown): never {
  throw new ModelingError('DEPS_FAILED', message, { file: 'packages.yml', cause, retryable: false });
}

/** Reads a hub package's index: its project name, versions, their dependencies and tarballs. */
export async function fetchHubPackage(hubUrl: string, pkg: string, signal: AbortSignal): Promise<HubPackage> {
  const url = `${hubUrl.replace(/\/+$/, '')}/api/v1/${pkg}.json`;
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    throw new ModelingError('DEPS_FAILED', `package hub unreachable for ${pkg} (${url})`, {
      file: 'packages.yml',
      cause: error,
      retryable: true,
    });
  }
  if (response.status === 404) fail(`package ${pkg} is not on the package hub (${url})`);
  if (!response.ok)
    throw new ModelingError('DEPS_FAILED', `package hub answered ${response.status} for ${pkg} (${url})`, {
      file: 'packages.yml',
      retryable: response.status === 429 || response.status >= 500,
    });
  const parsed = hubPackageSchema.safeParse(await response.json());
  if (!parsed.success) fail(`package hub answer for ${pkg} is not a package index (${url})`, parsed.error);
  return parsed.data;
}

/** The highest hub version of `pkg` meeting every spec; `DEPS_FAILED` naming the specs when none does. */
export function pickHubVersion(pkg: string, index: HubPackage, specs: readonly string[]): string {
  let picked: string | undefined;
  try {
    picked = pickVersion(Object.keys(index.versions), specs);
  } catch (error) {
    fail(`${pkg}: ${(error as Error).message}`, error);
  }
  if (!picked) fail(`${pkg}: no version on the hub satisfies ${specs.map((s) => `'${s}'`).join(', ')}`);
  return picked;
}

/**
 * Streams a `.tar.gz` into `dest` through the `tar` command (its first path component, the
 * archive's top folder, is stripped), never holding the archive in memory.
 */
export async function downloadTarball(url: string, dest: string, signal: AbortSignal): Promise<void> {
  await mkdir(dest, { recursive: true });
  const response = await fetch(url, { signal }).catch((error: unknown) => {
    throw new ModelingError('DEPS_FAILED', `cannot download ${url}`, { cause: error, retryable: true });
  });
  if (!response.ok || !response.body)
    throw new ModelingError('DEPS_FAILED', `download of ${url} answered ${response.status}`, {
      retryable: response.status >= 500,
    });
  const tar = spawn('tar', ['-xzf', '-', '--strip-components=1', '-C', dest], {
    stdio: ['pipe', 'ignore', 'pipe'],
    signal,
  });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const exited = new Promise<number | null>((ok, ko) => {
    tar.on('error', ko);
    tar.on('close', ok);
  });
  try {
    await pipeline(Readable.fromWeb(response.body as never), tar.stdin);
  } catch (error) {
    tar.kill();
    await exited.catch(() => undefined);
    throw new ModelingError('DEPS_FAILED', `cannot unpack ${url}`, { cause: error });
  }
  const code = await exited;
  if (code !== 0) fail(`cannot unpack ${url}: tar exited ${code}: ${stderr.trim().split('\n')[0] ?? ''}`);
}
