import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { IngestError } from './errors.js';
import { assertKey, type ObjectInfo, type ObjectStore, type PutOptions } from './object-store.js';

/** Options for {@link createFsStore}. */
export interface FsStoreOptions {
  /** Root directory; created on first write. */
  root: string;
}

const TEMP_MARK = '.tmp-';
const isTemp = (name: string): boolean => name.startsWith('.') && name.includes(TEMP_MARK);
const isMissing = (e: unknown): boolean => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

/**
 * An {@link ObjectStore} on the local filesystem. Writes go to a hidden temp file in the target
 * directory and are renamed into place, so a reader never sees a partial object; the temp file
 * is removed on any failure.
 *
 * @example
 * const store = createFsStore({ root: '.dataflow/lake' });
 * await store.putBytes('hello.txt', 'hi');
 */
export function createFsStore(options: FsStoreOptions): ObjectStore {
  const root = resolve(options.root);
  const pathOf = (key: string): string => {
    assertKey(key);
    return join(root, ...key.split('/'));
  };
  const storeError = (op: string, key: string, cause: unknown): IngestError =>
    cause instanceof IngestError
      ? cause
      : new IngestError('STORE', `filesystem store: ${op} failed for key ${key}`, { location: key, cause });

  async function writeAtomically(key: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const target = pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const tmp = join(
      dirname(target),
      `.${target.slice(dirname(target).length + 1)}${TEMP_MARK}${randomBytes(6).toString('hex')}`,
    );
    try {
      await write(tmp);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  return {
    url: pathToFileURL(root).toString(),

    async put(key: string, body: Readable, putOptions: PutOptions = {}): Promise<{ bytes: number }> {
      let bytes = 0;
      try {
        await writeAtomically(key, async (tmp) => {
          const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
          await pipeline(body, out, putOptions.signal ? { signal: putOptions.signal } : {});
          bytes = out.bytesWritten;
        });
      } catch (error) {
        body.destroy();
        if (putOptions.signal?.aborted) {
          throw new IngestError('ABORTED', `put aborted: ${key}`, { location: key, cause: error });
        }
        throw storeError('put', key, error);
      }
      return { bytes };
    },

    async putBytes(key, body) {
      try {
        await writeAtomically(key, (tmp) => writeFile(tmp, body));
      } catch (error) {
        throw storeError('putBytes', key, error);
      }
    },

    async get(key, getOptions = {}) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      } catch (error) {
        if (isMissing(error))
          throw new IngestError('NOT_FOUND', `object not found: ${key}`, { location: key, cause: error });
        throw storeError('get', key, error);
      }
      return createReadStream(path, {
        highWaterMark: 1 << 20,
        ...(getOptions.signal ? { signal: getOptions.signal } : {}),
      });
    },

    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw storeError('exists', key, error);
      }
    },

    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      // Walk only the directory that can contain the prefix, then filter by full key.
      const slash = prefix.lastIndexOf('/');
      const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
      if (dirKey !== '') assertKey(dirKey);
      const found: ObjectInfo[] = [];
      const walk = async (dir: string, keyBase: string): Promise<void> => {
        let entries: import('node:fs').Dirent[];
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return;
          throw storeError('list', prefix, error);
        }
        for (const entry of entries) {
          const key = keyBase === '' ? entry.name : `${keyBase}/${entry.name}`;
          if (entry.isDirectory()) {
            if (key.startsWith(prefix) || prefix.startsWith(`${key}/`))
              await walk(join(dir, entry.name), key);
          } else if (entry.isFile() && !isTemp(entry.name) && key.startsWith(prefix)) {
            // A file deleted between readdir and stat is simply no longer listed.
            const info = await stat(join(dir, entry.name)).catch(() => undefined);
            if (info) found.push({ key, size: info.size });
          }
        }
      };
      await walk(dirKey === '' ? root : join(root, ...dirKey.split('/')), dirKey);
      found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      yield* found;
    },

    async delete(keys) {
      for (const key of keys) {
        try {
          await rm(pathOf(key), { force: true });
        } catch (error) {
          throw storeError('delete', key, error);
        }
      }
    },
  };
}
