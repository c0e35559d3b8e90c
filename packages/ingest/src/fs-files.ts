import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IngestError } from './errors.js';

const TEMP_MARK = '.tmp-';

/** True for the hidden temp files writes go through (`.<name>.tmp-<random>`). */
export const isTempName = (name: string): boolean => name.startsWith('.') && name.includes(TEMP_MARK);
/** The file a temp file was writing (its name without the leading dot and temp suffix). */
export const targetOfTemp = (name: string): string => name.slice(1, name.lastIndexOf(TEMP_MARK));
export const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The one-line error of a filesystem operation, keeping the OS reason (ENOSPC, EACCES …) in it. */
export function fsError(op: string, key: string, cause: unknown): IngestError {
  if (cause instanceof IngestError) return cause;
  const reason = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
  return new IngestError('STORE', `filesystem store: ${op} failed for key ${key}: ${reason}`, {
    location: key,
    cause,
  });
}

/** A fresh hidden temp path next to `target`. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${randomBytes(6).toString('hex')}`);
}

/**
 * Writes `target` through a temp file in its directory, then `rename` (replace) or `link`
 * (exclusive: false when `target` exists). The temp file is removed on every path.
 */
export async function writeThroughTemp(
  target: string,
  write: (tmp: string) => Promise<void>,
  mode: 'replace' | 'exclusive' = 'replace',
): Promise<boolean> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  try {
    await write(tmp);
    if (mode === 'replace') {
      await rename(tmp, target);
      return true;
    }
    // link() fails with EEXIST when the target exists: an atomic create-if-absent on POSIX.
    await link(tmp, target);
    return true;
  } catch (error) {
    if (mode === 'exclusive' && (error as NodeJS.ErrnoException)?.code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Writes a small file exclusively (see {@link writeThroughTemp}). */
export const createExclusive = (target: string, body: string): Promise<boolean> =>
  writeThroughTemp(target, (tmp) => writeFile(tmp, body), 'exclusive');

/** A file found by {@link walkFiles}: its key, path and stat. */
export interface WalkedFile {
  key: string;
  path: string;
  name: string;
  size: number;
  mtime: Date;
}

/**
 * Every regular file under `dir` whose key (relative, `/`-separated) could start with `prefix`,
 * directories outside the prefix skipped. A file removed while walking is skipped.
 */
export async function* walkFiles(dir: string, keyBase: string, prefix: string): AsyncGenerator<WalkedFile> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw fsError('list', prefix, error);
  }
  for (const entry of entries) {
    const key = keyBase === '' ? entry.name : `${keyBase}/${entry.name}`;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (key.startsWith(prefix) || prefix.startsWith(`${key}/`)) yield* walkFiles(path, key, prefix);
    } else if (entry.isFile()) {
      const info = await stat(path).catch(() => undefined);
      if (info) yield { key, path, name: entry.name, size: info.size, mtime: info.mtime };
    }
  }
}
