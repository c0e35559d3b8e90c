import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ModelingError } from '../errors.js';
import { readProjectFile } from '../project-files.js';
import { installGitPackage } from './git.js';
import { DEFAULT_HUB_URL, downloadTarball, fetchHubPackage, type HubPackage, pickHubVersion } from './hub.js';
import {
  type LockedPackage,
  lockFileText,
  type PackageSpec,
  readLockFile,
  readPackagesFile,
} from './packages-file.js';

/** Options of {@link installPackages}. */
export interface InstallPackagesOptions {
  /** The dbt project whose `packages.yml` / `dependencies.yml` is installed. */
  projectDir: string;
  /** Base URL of the package hub API (default {@link DEFAULT_HUB_URL}). */
  hubUrl?: string;
  /** Longest wait for one hub request or tarball download (default 120 s). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

/** One package `installPackages` put under the install path. */
export interface InstalledPackage {
  /** The package's project name: its folder under `dbt_packages/` and its macro namespace. */
  name: string;
  kind: 'hub' | 'git' | 'local';
  /** Hub version or git commit installed; the resolved directory for a local package. */
  pinned: string;
}

/** What {@link installPackages} did. */
export interface InstallPackagesResult {
  /** Absolute install directory (`packages-install-path`, default `dbt_packages`). */
  installDir: string;
  packages: InstalledPackage[];
  /** True when `package-lock.yml` matched the requirements and pinned every package. */
  fromLockFile: boolean;
}

interface HubRequirement {
  specs: string[];
  index: HubPackage;
  expanded: Set<string>;
}

/** The state one install threads through its steps. */
interface Install {
  projectDir: string;
  installDir: string;
  hubUrl: string;
  signal: () => AbortSignal;
  hub: Map<string, HubRequirement>;
  seen: Set<string>;
  packages: InstalledPackage[];
  lock: LockedPackage[];
}

/**
 * `dbt deps`: installs the project's `packages.yml` (or `dependencies.yml`) entries, and theirs,
 * into `packages-install-path`: hub packages (`package:` + version range, the highest version
 * meeting every range any requirer gives), `git:` (with `revision`, `subdirectory`) through the
 * `git` command, and `local:` (symlinked, as dbt does). Writes `package-lock.yml`; when a lock file
 * written for the same requirements exists, installs exactly what it pins.
 * Failures throw `ModelingError` `DEPS_FAILED` naming the package.
 *
 * @example
 * const { packages } = await installPackages({ projectDir: 'analytics' });
 * // packages: [{ name: 'dbt_utils', kind: 'hub', pinned: '1.3.0' }]
 */
export async function installPackages(options: InstallPackagesOptions): Promise<InstallPackagesResult> {
  const projectDir = resolve(options.projectDir);
  const project = await readProjectFile(projectDir);
  const installDir = join(projectDir, project.packagesInstallPath);
  const requirements = await readPackagesFile(projectDir);
  if (!requirements) return { installDir, packages: [], fromLockFile: false };
  const locked = await readLockFile(projectDir, requirements.sha1);
  await mkdir(installDir, { recursive: true });
  const timeout = options.requestTimeoutMs ?? 120_000;
  const install: Install = {
    projectDir,
    installDir,
    hubUrl: options.hubUrl ?? DEFAULT_HUB_URL,
    signal: () =>
      options.signal
        ? AbortSignal.any([options.signal, AbortSignal.timeout(timeout)])
        : AbortSignal.timeout(timeout),
    hub: new Map(),
    seen: new Set(),
    packages: [],
    lock: [],
  };
  await resolveAll(
    install,
    (locked ?? requirements.specs).map((spec) => ({ spec, baseDir: projectDir })),
  );
  for (const [pkg, req] of install.hub) await installHubPackage(install, pkg, req);
  if (!locked)
    await writeFile(join(projectDir, 'package-lock.yml'), lockFileText(install.lock, requirements.sha1));
  return { installDir, packages: install.packages, fromLockFile: locked !== undefined };
}

type Pending = { spec: PackageSpec; baseDir: string };

/** Walks requirements breadth-first: git and local packages are installed to read their own requirements. */
async function resolveAll(install: Install, queue: Pending[]): Promise<void> {
  for (let next = queue.shift(); next; next = queue.shift()) {
    const { spec, baseDir } = next;
    if (spec.kind === 'hub') {
      queue.push(...(await requireHub(install, spec.package, spec.versions)));
      continue;
    }
    const key =
      spec.kind === 'git'
        ? `${spec.git}@${spec.revision ?? ''}/${spec.subdirectory ?? ''}`
        : resolve(baseDir, spec.local);
    if (install.seen.has(key)) continue;
    install.seen.add(key);
    const dir =
      spec.kind === 'git'
        ? await installGit(install, spec)
        : await installLocal(install, spec.local, baseDir);
    const own = await readPackagesFile(dir);
    for (const s of own?.specs ?? []) queue.push({ spec: s, baseDir: dir });
  }
}

/** Adds ranges for a hub package; returns the requirements of the version now picked, once per version. */
async function requireHub(install: Install, pkg: string, specs: string[]): Promise<Pending[]> {
  let req = install.hub.get(pkg);
  if (!req) {
    req = {
      specs: [],
      index: await fetchHubPackage(install.hubUrl, pkg, install.signal()),
      expanded: new Set(),
    };
    install.hub.set(pkg, req);
  }
  req.specs.push(...specs);
  const version = pickHubVersion(pkg, req.index, req.specs);
  if (req.expanded.has(version)) return [];
  req.expanded.add(version);
  return (req.index.versions[version]?.packages ?? []).map((p) => ({
    spec: {
      kind: 'hub',
      package: p.package,
      versions: (Array.isArray(p.version) ? p.version : [p.version]).map(String),
    },
    baseDir: install.projectDir,
  }));
}

/** Fills a scratch folder, reads the package's name from it, and moves it over `<installDir>/<name>`. */
async function placePackage(
  install: Install,
  fill: (dir: string) => Promise<void>,
): Promise<{ name: string; dir: string }> {
  const scratch = await mkdtemp(join(install.installDir, '.install-'));
  try {
    const dir = join(scratch, 'package');
    await fill(dir);
    const { name } = await readProjectFile(dir);
    const final = join(install.installDir, name);
    await rm(final, { recursive: true, force: true });
    await rename(dir, final);
    return { name, dir: final };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function installGit(
  install: Install,
  spec: { git: string; revision?: string; subdirectory?: string },
): Promise<string> {
  let commit = '';
  const { name, dir } = await placePackage(install, async (dir) => {
    commit = await installGitPackage(spec, dir, install.installDir, install.signal());
  });
  install.packages.push({ name, kind: 'git', pinned: commit });
  install.lock.push({
    name,
    git: spec.git,
    revision: commit,
    ...(spec.subdirectory ? { subdirectory: spec.subdirectory } : {}),
  });
  return dir;
}

async function installLocal(install: Install, local: string, baseDir: string): Promise<string> {
  const source = resolve(baseDir, local);
  const { name } = await readProjectFile(source).catch((error: unknown) => {
    throw new ModelingError('DEPS_FAILED', `local package '${local}' has no readable dbt_project.yml`, {
      file: 'packages.yml',
      cause: error,
    });
  });
  const link = join(install.installDir, name);
  await rm(link, { recursive: true, force: true });
  await symlink(relative(install.installDir, source), link, 'dir');
  install.packages.push({ name, kind: 'local', pinned: source });
  install.lock.push({ name, local });
  return source;
}

async function installHubPackage(install: Install, pkg: string, req: HubRequirement): Promise<void> {
  const version = pickHubVersion(pkg, req.index, req.specs);
  const tarball = req.index.versions[version]?.downloads.tarball ?? '';
  const { name } = await placePackage(install, (dir) => downloadTarball(tarball, dir, install.signal()));
  install.packages.push({ name, kind: 'hub', pinned: version });
  install.lock.push({ name, package: pkg, version });
}
