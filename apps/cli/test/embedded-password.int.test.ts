import { chmod, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireEmbeddedPostgres,
  type EmbeddedPostgresHandle,
  PASSWORD_FILE,
} from '../src/embedded-postgres.js';
import { tempProject } from './helpers.js';

const log = { debug: () => undefined };

async function loginError(url: string, password: string): Promise<unknown> {
  const u = new URL(url);
  u.password = password;
  const client = new pg.Client({ connectionString: u.toString(), connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('the embedded PostgreSQL is not open to every local account', () => {
  let dir: string | undefined;
  const handles: EmbeddedPostgresHandle[] = [];
  afterAll(async () => {
    for (const h of handles.reverse()) await h.release().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a new cluster gets a random password in a 0600 file; the old fixed password is refused', async () => {
    dir = await tempProject({});
    await chmod(dir, 0o755);
    const first = await acquireEmbeddedPostgres(dir, { log });
    handles.push(first);
    const file = join(dir, '.dataflow', PASSWORD_FILE);
    const password = (await readFile(file, 'utf8')).trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(decodeURIComponent(new URL(first.url).password)).toBe(password);
    expect(await loginError(first.url, password)).toBeUndefined();
    expect(await loginError(first.url, 'dataflow')).toMatchObject({ code: '28P01' });
  });

  it('a cluster that still has the old fixed password is rotated to a random one on first use', async () => {
    const project = dir ?? '';
    const [first] = handles;
    if (!first) throw new Error('the first test did not start the cluster');
    // What a .dataflow/ made by an older dataflow looks like: password 'dataflow', no password file.
    const admin = new pg.Client({ connectionString: first.url });
    await admin.connect();
    await admin.query("alter role postgres password 'dataflow'");
    await admin.end();
    const file = join(project, '.dataflow', PASSWORD_FILE);
    const before = (await readFile(file, 'utf8')).trim();
    await rm(file);

    const second = await acquireEmbeddedPostgres(project, { log });
    handles.push(second);
    const after = (await readFile(file, 'utf8')).trim();
    expect(after).not.toBe(before);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loginError(second.url, after)).toBeUndefined();
    expect(await loginError(second.url, 'dataflow')).toMatchObject({ code: '28P01' });
  });
});
