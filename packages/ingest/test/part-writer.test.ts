import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ManifestFile } from '../src/manifest.js';
import { type PartSink, type Unit, writeParts } from '../src/part-writer.js';

/** A sink that keeps each part's text; `failAt` makes that part's store fail. */
function memorySink(failAt?: number): PartSink & { parts: Array<{ text: string; rows: number }> } {
  const parts: Array<{ text: string; rows: number }> = [];
  return {
    parts,
    async writePart(body: Readable, rows: () => number): Promise<ManifestFile> {
      const index = parts.length;
      parts.push({ text: '', rows: 0 });
      let text = '';
      for await (const chunk of body) text += String(chunk);
      if (index === failAt) throw new Error(`store failed on part ${index}`);
      parts[index] = { text, rows: rows() };
      return { key: `p${index}`, rows: rows(), bytes: text.length, sha256: '' };
    },
  };
}

async function* units(lines: string[]): AsyncGenerator<Unit> {
  for (const line of lines) yield { data: line, rows: 1, size: line.length };
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `${String(i).padStart(3, '0')},row\n`);

describe('writeParts (the one part-splitting loop)', () => {
  it('splits only between units, each part headed by the header and at most about partBytes', async () => {
    const sink = memorySink();
    const parts = await writeParts(sink, units(lines(10)), { header: 'id,v\n', partBytes: 5 + 3 * 8 });
    expect(parts).toBe(4);
    expect(sink.parts.map((p) => p.rows)).toEqual([3, 3, 3, 1]);
    expect(sink.parts[0]?.text).toBe(`id,v\n${lines(3).join('')}`);
    expect(sink.parts.map((p) => p.text.replace('id,v\n', '')).join('')).toBe(lines(10).join(''));
  });

  it('a unit larger than partBytes gets a part of its own', async () => {
    const sink = memorySink();
    await writeParts(sink, units(['a\n', 'x'.repeat(100), 'b\n']), { header: '', partBytes: 10 });
    expect(sink.parts.map((p) => p.text)).toEqual(['a\n', 'x'.repeat(100), 'b\n']);
  });

  it('an empty source still lands one header-only part', async () => {
    const sink = memorySink();
    expect(await writeParts(sink, units([]), { header: 'id\n', partBytes: 10 })).toBe(1);
    expect(sink.parts).toEqual([{ text: 'id\n', rows: 0 }]);
  });

  it('Buffer units pass through unchanged between text units', async () => {
    const sink = memorySink();
    const mixed = async function* (): AsyncGenerator<Unit> {
      yield { data: 'a\n', rows: 1, size: 2 };
      yield { data: Buffer.from('b\nc\n'), rows: 2, size: 4 };
    };
    await writeParts(sink, mixed(), { header: 'h\n', partBytes: 100 });
    expect(sink.parts).toEqual([{ text: 'h\na\nb\nc\n', rows: 3 }]);
  });

  it('a failed store stops the source through onFailure, closes it and throws the store error', async () => {
    const sink = memorySink(0);
    let stopped: unknown;
    let closed = false;
    const endless = async function* (): AsyncGenerator<Unit> {
      try {
        for (let i = 0; ; i++) yield { data: `${i}\n`, rows: 1, size: 2 };
      } finally {
        closed = true;
      }
    };
    const error = await writeParts(sink, endless(), { header: '', partBytes: 64 }, (e) => {
      stopped = e;
    }).catch((e: unknown) => e);
    expect(String(error)).toContain('store failed on part 0');
    expect(stopped).toBe(error);
    expect(closed).toBe(true);
  });

  it('a failing source fails the write with the source error', async () => {
    const failing = async function* (): AsyncGenerator<Unit> {
      yield { data: 'a\n', rows: 1, size: 2 };
      throw new Error('bad row at line 3');
    };
    const error = await writeParts(memorySink(), failing(), { header: '', partBytes: 64 }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toContain('bad row at line 3');
  });
});
