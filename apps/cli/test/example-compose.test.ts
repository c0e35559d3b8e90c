import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseDocument } from 'yaml';

// No Docker engine runs here, so the compose file is checked structurally: what `docker compose
// config` would need (services, images, ports, volumes, healthchecks, env, start order).
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  user?: string;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

async function loadCompose(): Promise<{ compose: Compose; text: string }> {
  const text = await readFile(join(root, 'docker-compose.yml'), 'utf8');
  const doc = parseDocument(text, { merge: true });
  expect(doc.errors).toEqual([]);
  expect(doc.warnings).toEqual([]);
  return { compose: doc.toJS({ maxAliasCount: 100 }) as Compose, text };
}

/** `"${VAR:-5432}:5432"` → `{ host: '5432', container: '5432' }` with the default applied. */
function portMapping(spec: string): { host: string; container: string } {
  const resolved = spec.replace(/\$\{[A-Z_]+:-(\d+)\}/g, '$1');
  const m = /^(\d+):(\d+)$/.exec(resolved);
  if (!m?.[1] || !m[2]) throw new Error(`unexpected port spec ${spec}`);
  return { host: m[1], container: m[2] };
}

describe('docker-compose.yml', () => {
  it('declares exactly the four services with pinned images', async () => {
    const { compose } = await loadCompose();
    expect(Object.keys(compose.services).sort()).toEqual(['airflow', 'createbuckets', 'minio', 'postgres']);
    expect(compose.services.postgres?.image).toBe('postgres:17');
    expect(compose.services.minio?.image).toMatch(/^quay\.io\/minio\/minio:RELEASE\.\d{4}-\d{2}-\d{2}T/);
    expect(compose.services.createbuckets?.image).toMatch(/^quay\.io\/minio\/mc:RELEASE\.\d{4}-\d{2}-\d{2}T/);
    expect(compose.services.airflow?.build).toEqual({
      context: '.',
      dockerfile: 'docker/airflow.Dockerfile',
    });
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image, `${name} image`).not.toMatch(/:latest$/);
    }
  });

  it('publishes the expected ports, overridable from the environment', async () => {
    const { compose } = await loadCompose();
    const ports = Object.fromEntries(
      Object.entries(compose.services).map(([name, s]) => [name, (s.ports ?? []).map(portMapping)]),
    );
    expect(ports.postgres).toEqual([{ host: '5432', container: '5432' }]);
    expect(ports.minio).toEqual([
      { host: '9000', container: '9000' },
      { host: '9001', container: '9001' },
    ]);
    expect(ports.airflow).toEqual([{ host: '8080', container: '8080' }]);
    expect(ports.createbuckets).toEqual([]);
  });

  it('keeps state in named volumes and mounts the DAGs, the example and the init script', async () => {
    const { compose } = await loadCompose();
    expect(Object.keys(compose.volumes).sort()).toEqual(['airflowlogs', 'miniodata', 'pgdata']);
    expect(compose.services.postgres?.volumes).toEqual([
      'pgdata:/var/lib/postgresql/data',
      './docker/postgres/init.sql:/docker-entrypoint-initdb.d/10-airflow-db.sql:ro',
    ]);
    expect(compose.services.minio?.volumes).toEqual(['miniodata:/data']);
    expect(compose.services.airflow?.volumes).toEqual([
      './airflow/dags:/opt/airflow/dags',
      './examples:/opt/dataflow/examples',
      'airflowlogs:/opt/airflow/logs',
    ]);
    // Every bind mount points at something that exists in the repo.
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? '';
        if (source.startsWith('./')) expect(existsSync(join(root, source)), volume).toBe(true);
      }
    }
    const init = await readFile(join(root, 'docker/postgres/init.sql'), 'utf8');
    expect(init).toMatch(/CREATE DATABASE airflow OWNER dataflow;/);
  });

  it('has healthchecks, and Airflow starts only after PostgreSQL is healthy and the bucket exists', async () => {
    const { compose } = await loadCompose();
    const s = compose.services;
    expect(s.postgres?.healthcheck?.test).toEqual(['CMD-SHELL', 'pg_isready -U dataflow -d warehouse']);
    expect(s.minio?.healthcheck?.test).toEqual(['CMD', 'mc', 'ready', 'local']);
    expect(s.airflow?.healthcheck?.test).toEqual([
      'CMD',
      'curl',
      '--fail',
      'http://localhost:8080/api/v2/version',
    ]);
    expect(s.createbuckets?.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
    expect(s.airflow?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      createbuckets: { condition: 'service_completed_successfully' },
    });
    expect(s.createbuckets?.restart).toBe('no');
  });

  it('creates the lake bucket with mc, idempotently', async () => {
    const { compose } = await loadCompose();
    const entrypoint = compose.services.createbuckets?.entrypoint as string[];
    expect(entrypoint.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(entrypoint[2]).toContain(
      'mc alias set local http://minio:9000 "$$MINIO_ROOT_USER" "$$MINIO_ROOT_PASSWORD"',
    );
    expect(entrypoint[2]).toContain('mc mb --ignore-existing local/lake');
  });

  it('wires Airflow to the warehouse, the S3 lake and the example project', async () => {
    const { compose } = await loadCompose();
    const env = compose.services.airflow?.environment ?? {};
    const pg = compose.services.postgres?.environment ?? {};
    const minio = compose.services.minio?.environment ?? {};
    expect(env).toMatchObject({
      DATAFLOW_DATABASE_URL: `postgres://${pg.POSTGRES_USER}:${pg.POSTGRES_PASSWORD}@postgres:5432/${pg.POSTGRES_DB}`,
      DATAFLOW_LAKE_URL: 's3://lake/raw',
      DATAFLOW_S3_ENDPOINT: 'http://minio:9000',
      AWS_ACCESS_KEY_ID: minio.MINIO_ROOT_USER,
      AWS_SECRET_ACCESS_KEY: minio.MINIO_ROOT_PASSWORD,
      AWS_REGION: 'us-east-1',
      DATAFLOW_CLI: 'dataflow',
      DATAFLOW_PROJECT_DIR: '/opt/dataflow/examples/shop',
      DATAFLOW_START_DATE: '2026-05-01',
      DATAFLOW_END_DATE: '2026-05-03',
      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'postgresql+psycopg2://dataflow:dataflow@postgres:5432/airflow',
      AIRFLOW__CORE__LOAD_EXAMPLES: 'false',
    });
    // The lake bucket the CLI writes to is the one createbuckets makes.
    const bucket = new URL(env.DATAFLOW_LAKE_URL ?? '').host;
    expect(compose.services.createbuckets?.entrypoint?.[2]).toContain(`local/${bucket}`);
    // The rates API the example calls runs next to Airflow on the port dataflow.yml expects.
    const command = ((compose.services.airflow?.command ?? []) as string[]).join(' ');
    expect(command).toContain('examples/shop/scripts/rates-server.ts --port "$$RATES_PORT" &');
    expect(command).toMatch(/exec airflow standalone$/);
    expect(env.RATES_PORT).toBe('8787');
  });

  it('the Airflow image installs Node 20 and builds the CLI onto PATH', async () => {
    const dockerfile = await readFile(join(root, 'docker/airflow.Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM \$\{AIRFLOW_IMAGE\}$/m);
    expect(dockerfile).toMatch(/^ARG AIRFLOW_IMAGE=apache\/airflow:3\.\d+\.\d+/m);
    expect(dockerfile).toContain('https://deb.nodesource.com/node_20.x');
    expect(dockerfile).toContain('RUN npm ci --no-audit --no-fund');
    expect(dockerfile).toContain('RUN npm run build');
    expect(dockerfile).toContain('exec node /opt/dataflow/apps/cli/dist/bin.js');
    expect(dockerfile).toMatch(/^USER airflow$/m);
    // Every workspace manifest is copied before `npm ci`, or the install would miss a package.
    const rootManifest = parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      workspaces: string[];
    };
    expect(rootManifest.workspaces).toEqual(['packages/*', 'apps/*']);
    for (const parent of ['packages', 'apps']) {
      for (const entry of await readdir(join(root, parent), { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        expect(dockerfile).toContain(`COPY ${parent}/${entry.name}/package.json ${parent}/${entry.name}/`);
      }
    }
    const ignore = await readFile(join(root, 'docker/airflow.Dockerfile.dockerignore'), 'utf8');
    expect(ignore.split('\n')).toEqual(
      expect.arrayContaining(['**/node_modules', '**/dist', '**/.dataflow']),
    );
  });
});
