import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickVersion } from '../../src/deps/version-range.js';
import { installPackages, ModelingError } from '../../src/index.js';

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

async function writeTree(root: string, files: Record<string, string>) {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, path, '..'), { recursive: true });
    await writeFile(join(root, path), text);
  }
}

let work: string;
let hub: Server;
let hubUrl: string;
let requests: string[];

/** A loopback package hub: `/api/v1/acme/<name>.json` indexes and `/tarballs/<name>-<v>.tar.gz`. */
async function startHub(tarballs: Record<string, Buffer>): Promise<void> {
  requests = [];
  const index = (name: string, versions: Record<string, unknown[]>) => ({
    name,
    namespace: 'acme',
    latest: Object.keys(versions).at(-1),
    versions: Object.fromEntries(
      Object.entries(versions).map(([v, packages]) => [
        v,
        {
          id: `acme/${name}/${v}`,
          name,
          version: v,
          packages,
          downloads: { tarball: `${hubUrl}/tarballs/${name}-${v}.tar.gz` },
        },
      ]),
    ),
  });
  const indexes = (): Record<string, unknown> => ({
    '/api/v1/acme/helpers.json': index('helpers', {
      '0.9.0': [],
      '1.0.0': [],
      '1.2.0': [{ package: 'acme/base', version: ['>=0.2.0', '<1.0.0'] }],
      '2.0.0': [],
    }),
    '/api/v1/acme/base.json': index('base', { '0.1.0': [], '0.3.0': [], '1.0.0': [] }),
  });
  hub = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = indexes()[req.url ?? ''];
    if (body)
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const tar = tarballs[(req.url ?? '').replace('/tarballs/', '')];
    if (tar) return void res.writeHead(200, { 'content-type': 'application/gzip' }).end(tar);
    res.writeHead(404).end('{}');
  });
  await new Promise<void>((ok) => hub.listen(0, '127.0.0.1', ok));
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
}

/** A .tar.gz laid out as GitHub's codeload serves it: one top folder holding the project. */
async function tarball(name: string, version: string): Promise<Buffer> {
  const dir = join(work, 'tarsrc', `${name}-${version}`);
  await writeTree(dir, {
    'dbt_project.yml': `name: ${name}\nversion: ${version}\n`,
    [`macros/${name}.sql`]: `{% macro ${name}_version() %}'${version}'{% endmacro %}\n`,
  });
  return execFileSync('tar', ['-czf', '-', '-C', join(work, 'tarsrc'), `${name}-${version}`]);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dataflow-deps-'));
  await startHub({
    'helpers-1.2.0.tar.gz': await tarball('helpers', '1.2.0'),
    'base-0.3.0.tar.gz': await tarball('base', '0.3.0'),
  });
  // A git repository with the package in a subdirectory, two commits and a tag on the first.
  const repo = join(work, 'repo');
  await writeTree(repo, { 'pkg/dbt_project.yml': 'name: gitpkg\n', 'pkg/macros/m.sql': '-- v1\n' });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'v1');
  git(repo, 'tag', 'v1');
  await writeFile(join(repo, 'pkg/macros/m.sql'), '-- v2\n');
  git(repo, 'commit', '-qam', 'v2');
  // A local package that itself requires a hub package.
  await writeTree(join(work, 'localpkg'), {
    'dbt_project.yml': 'name: localpkg\n',
    'packages.yml': 'packages:\n  - package: acme/helpers\n    version: "<2.0.0"\n',
  });
});

afterAll(async () => {
  await new Promise((ok) => hub.close(ok));
  await rm(work, { recursive: true, force: true });
});

describe('pickVersion', () => {
  it('takes the highest version meeting every range, never a pre-release', () => {
    expect(pickVersion(['1.0.0', '1.3.0', '2.0.0', '1.4.0-rc1'], ['>=1.0.0', '<2.0.0'])).toBe('1.3.0');
    expect(pickVersion(['0.8.0', '0.9.2'], ['0.9.2'])).toBe('0.9.2');
    expect(pickVersion(['1.0.0'], ['>=1.1'])).toBeUndefined();
  });
});

describe('installPackages', () => {
  it('installs hub (with transitive ranges), git (revision + subdirectory) and local packages and writes package-lock.yml', async () => {
    const project = join(work, 'project');
    await writeTree(project, {
      'dbt_project.yml': 'name: shop\npackages-install-path: vendor\n',
      'packages.yml': [
        'packages:',
        '  - package: acme/helpers',
        '    version: [">=1.0.0", "<2.0.0"]',
        `  - git: ${join(work, 'repo')}`,
        '    revision: v1',
        '    subdirectory: pkg',
        '  - local: ../localpkg',
        '',
      ].join('\n'),
    });
    const result = await installPackages({ projectDir: project, hubUrl });
    expect(result.fromLockFile).toBe(false);
    const v1 = git(join(work, 'repo'), 'rev-parse', 'v1');
    expect(result.packages).toEqual([
      { name: 'gitpkg', kind: 'git', pinned: v1 },
      { name: 'localpkg', kind: 'local', pinned: join(work, 'localpkg') },
      { name: 'helpers', kind: 'hub', pinned: '1.2.0' },
      { name: 'base', kind: 'hub', pinned: '0.3.0' },
    ]);
    const vendor = join(project, 'vendor');
    expect(await readFile(join(vendor, 'helpers/macros/helpers.sql'), 'utf8')).toContain("'1.2.0'");
    expect(await readFile(join(vendor, 'base/dbt_project.yml'), 'utf8')).toContain('version: 0.3.0');
    expect(await readFile(join(vendor, 'gitpkg/macros/m.sql'), 'utf8')).toBe('-- v1\n');
    expect(await readlink(join(vendor, 'localpkg'))).toBe('../../localpkg');
    const lock = await readFile(join(project, 'package-lock.yml'), 'utf8');
    expect(lock).toContain(
      `- name: gitpkg\n  git: ${join(work, 'repo')}\n  revision: ${v1}\n  subdirectory: pkg\n`,
    );
    expect(lock).toContain('- name: helpers\n  package: acme/helpers\n  version: 1.2.0\n');
    expect(lock).toContain('- name: base\n  package: acme/base\n  version: 0.3.0\n');
    expect(lock).toMatch(/\nsha1_hash: [0-9a-f]{40}\n$/);

    // Run again: the lock file pins everything, so the same versions come back.
    requests = [];
    const again = await installPackages({ projectDir: project, hubUrl });
    expect(again.fromLockFile).toBe(true);
    expect(again.packages.map((p) => `${p.name}@${p.pinned}`).sort()).toEqual(
      [`gitpkg@${v1}`, `localpkg@${join(work, 'localpkg')}`, 'helpers@1.2.0', 'base@0.3.0'].sort(),
    );
    expect(await readFile(join(project, 'package-lock.yml'), 'utf8')).toBe(lock);
  });

  it('fails with DEPS_FAILED naming the package when no hub version meets the ranges', async () => {
    const project = join(work, 'unsatisfiable');
    await writeTree(project, {
      'dbt_project.yml': 'name: shop\n',
      'packages.yml': 'packages:\n  - package: acme/helpers\n    version: ">=3.0.0"\n',
    });
    const error = await installPackages({ projectDir: project, hubUrl }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelingError);
    expect((error as ModelingError).code).toBe('DEPS_FAILED');
    expect((error as ModelingError).message).toBe("acme/helpers: no version on the hub satisfies '>=3.0.0'");
  });

  it('names the file and the entry of a malformed packages.yml, and an unknown hub package', async () => {
    const project = join(work, 'malformed');
    await writeTree(project, {
      'dbt_project.yml': 'name: shop\n',
      'packages.yml': 'packages:\n  - nope: 1\n',
    });
    await expect(installPackages({ projectDir: project, hubUrl })).rejects.toThrow(
      "packages.yml: packages.0: expected an entry with 'package' + 'version', 'git' or 'local'",
    );
    await writeFile(
      join(project, 'packages.yml'),
      'packages:\n  - package: acme/missing\n    version: 1.0.0\n',
    );
    await expect(installPackages({ projectDir: project, hubUrl })).rejects.toThrow(
      `package acme/missing is not on the package hub (${hubUrl}/api/v1/acme/missing.json)`,
    );
  });

  it('reports a git revision that does not exist without printing the URL', async () => {
    const project = join(work, 'badrev');
    await writeTree(project, {
      'dbt_project.yml': 'name: shop\n',
      'dependencies.yml': `packages:\n  - git: ${join(work, 'repo')}\n    revision: no-such-tag\n`,
    });
    const error = (await installPackages({ projectDir: project }).catch((e: unknown) => e)) as ModelingError;
    expect(error.code).toBe('DEPS_FAILED');
    expect(error.message).toMatch(/^git checkout failed: /);
    expect(error.message).not.toContain(work);
  });

  it('does nothing for a project without requirements', async () => {
    const project = join(work, 'none');
    await writeTree(project, { 'dbt_project.yml': 'name: shop\n' });
    expect(await installPackages({ projectDir: project })).toEqual({
      installDir: join(project, 'dbt_packages'),
      packages: [],
      fromLockFile: false,
    });
  });
});
