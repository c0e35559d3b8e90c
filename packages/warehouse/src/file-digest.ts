import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { WarehouseError } from './errors.js';

/** What the manifest recorded about one stored part file. */
export interface ExpectedFile {
  key: string;
  bytes: number;
  sha256: string;
}

/**
 * A pass-through stage placed right after the stored bytes are read: it hashes and counts them
 * on their way into COPY and fails at the end of the file when they differ from the manifest.
 * The failure destroys the COPY stream (CopyFail), so a changed or truncated file is never
 * committed, and the file is read only once.
 *
 * @example
 * await pipeline(body, verifyFile(entry), createGunzip(), copy);
 */
export function verifyFile(
  expected: ExpectedFile,
  table?: string,
  countBytes?: (bytes: number) => void,
): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      countBytes?.(chunk.length);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const digest = hash.digest('hex');
      if (bytes === expected.bytes && digest === expected.sha256) return callback();
      const what =
        bytes !== expected.bytes
          ? `${bytes} bytes where the manifest recorded ${expected.bytes}`
          : `sha256 ${digest.slice(0, 12)}… where the manifest recorded ${expected.sha256.slice(0, 12)}…`;
      callback(
        new WarehouseError('BAD_FILE', `${expected.key} changed since it was committed: read ${what}`, {
          file: expected.key,
          ...(table !== undefined ? { table } : {}),
        }),
      );
    },
  });
}
