import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { IngestError } from './errors.js';
import {
  createExclusive,
  fsError,
  isMissing,
  isTempName,
  targetOfTemp,
  type WalkedFile,
  walkFiles,
  writeThroughTemp,
} from './fs-files.js';
import { assertKey, type IncompleteWrite, type ObjectInfo, type ObjectStore } from './object-store.js';

/** Options for {@link createFsStore}. */
export interface FsStoreOptions {
  /** Root directory; created on first write. */
  root: string;
}

/** The parent key of `prefix` (the one directory that can hold it), checked. */
function dirKeyOf(prefix: string): string {
  const slash = prefix.lastIndexOf('/');
  const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
  if (dirKey !== '') assertKey(dirKey);
  return dirKey;
}

const byKey = (a: { key: string }, b: { key: string }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * An {@link ObjectStore} on the local filesystem. Writes go to a hidden temp file in the target
 * directory and are renamed into place, so a reader never sees a partial object; the temp file
 * is removed on any failure. `putIfAbsent` is atomic (`link()` fails on an existing name); temp
 * files a killed process left behind are its incomplete writes.
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
  const walk = (prefix: string): AsyncGenerator<WalkedFile> => {
    const dirKey = dirKeyOf(prefix);
    return walkFiles(dirKey === '' ? root : join(root, ...dirKey.split('/')), dirKey, prefix);
  };

  return {
    url: pathToFileURL(root).toString(),

    async put(key, body: Readable, putOptions = {}) {
      let bytes = 0;
      try {
        await writeThroughTemp(pathOf(key), async (tmp) => {
          const out = createWriteStream(tmp, { highWaterMark: 1 << 20 });
          await pipeline(body, out, putOptions.signal ? { signal: putOptions.signal } : {});
          bytes = out.bytesWritten;
        });
      } catch (error) {
        body.destroy();
        if (putOptions.signal?.aborted) {
          throw new IngestError('ABORTED', `put aborted: ${key}`, { location: key, cause: error });
        }
        throw fsError('put', key, error);
      }
      return { bytes };
    },

    async putBytes(key, body) {
      await writeThroughTemp(pathOf(key), (tmp) => writeFile(tmp, body)).catch((error: unknown) => {
        throw fsError('putBytes', key, error);
      });
    },

    async putIfAbsent(key, body) {
      const created = await createExclusive(pathOf(key), body).catch((error: unknown) => {
        throw fsError('putIfAbsent', key, error);
      });
      return created ? 'created' : 'exists';
    },

    async get(key, getOptions = {}) {
      const path = pathOf(key);
      try {
        const info = await stat(path);
        if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      } catch (error) {
        if (isMissing(error))
          throw new IngestError('NOT_FOUND', `object not found: ${key}`, { location: key, cause: error });
        throw fsError('get', key, error);
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
        throw fsError('exists', key, error);
      }
    },

    async *list(prefix) {
      const found: ObjectInfo[] = [];
      for await (const f of walk(prefix)) {
        if (!isTempName(f.name) && f.key.startsWith(prefix))
          found.push({ key: f.key, size: f.size, lastModified: f.mtime });
      }
      yield* found.sort(byKey);
    },

    async *listIncomplete(prefix) {
      const found: IncompleteWrite[] = [];
      for await (const f of walk(prefix)) {
        const key = f.key.slice(0, f.key.length - f.name.length) + targetOfTemp(f.name);
        if (isTempName(f.name) && key.startsWith(prefix)) found.push({ key, id: f.name, started: f.mtime });
      }
      yield* found.sort(byKey);
    },

    async abortIncomplete(write) {
      if (!isTempName(write.id) || write.id.includes('/'))
        throw new IngestError('INVALID_KEY', `not a temp file name: ${JSON.stringify(write.id)}`);
      const dirKey = dirKeyOf(write.key);
      const dir = dirKey === '' ? root : join(root, ...dirKey.split('/'));
      await rm(join(dir, write.id), { force: true }).catch((error: unknown) => {
        throw fsError('abort', write.key, error);
      });
    },

    async delete(keys) {
      for (const key of keys) {
        await rm(pathOf(key), { force: true }).catch((error: unknown) => {
          throw fsError('delete', key, error);
        });
      }
    },
  };
}
