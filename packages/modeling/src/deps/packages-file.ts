import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { z } from 'zod';
import { ModelingError } from '../errors.js';
import { readYaml, yamlErrorLine } from '../read-yaml.js';

const versionSpec = z
  .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
  .transform((v) => (Array.isArray(v) ? v : [v]).map(String));

const hubEntry = z.looseObject({ package: z.string().regex(/^[^/\s]+\/[^/\s]+$/), version: versionSpec });
const gitEntry = z.looseObject({
  git: z.string().min(1),
  revision: z.union([z.string(), z.number()]).transform(String).optional(),
  subdirectory: z.string().optional(),
});
const localEntry = z.looseObject({ local: z.string().min(1) });
const packagesSchema = z.looseObject({
  packages: z.array(z.union([hubEntry, gitEntry, localEntry])).nullish(),
});

/** One requirement of `packages.yml` / `dependencies.yml` (or of an installed package's own file). */
export type PackageSpec =
  | { kind: 'hub'; package: string; versions: string[] }
  | { kind: 'git'; git: string; revision?: string; subdirectory?: string }
  | { kind: 'local'; local: string };

/** The requirements file of a project: its entries, and the hash that ties a lock file to it. */
export interface PackagesFile {
  /** `packages.yml` or `dependencies.yml`, relative to the project. */
  file: string;
  specs: PackageSpec[];
  sha1: string;
}

type Entry = z.infer<typeof hubEntry> | z.infer<typeof gitEntry> | z.infer<typeof localEntry>;

function toSpec(entries: readonly Entry[]): PackageSpec[] {
  return entries.map((e): PackageSpec => {
    if (typeof e.package === 'string') {
      const hub = e as z.infer<typeof hubEntry>;
      return { kind: 'hub', package: hub.package, versions: hub.version };
    }
    if (typeof e.git === 'string') {
      const git = e as z.infer<typeof gitEntry>;
      return {
        kind: 'git',
        git: git.git,
        ...(git.revision !== undefined ? { revision: git.revision } : {}),
        ...(git.subdirectory !== undefined ? { subdirectory: git.subdirectory } : {}),
      };
    }
    return { kind: 'local', local: (e as z.infer<typeof localEntry>).local };
  });
}

/**
 * Reads `packages.yml`, else `dependencies.yml`, of `dir`; undefined when there is neither.
 * A malformed file throws `DEPS_FAILED` naming the file, line and entry.
 */
export async function readPackagesFile(dir: string): Promise<PackagesFile | undefined> {
  for (const file of ['packages.yml', 'dependencies.yml']) {
    let text: string;
    try {
      text = await readFile(join(dir, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ModelingError('DEPS_FAILED', `cannot read ${file}`, { file, cause: error });
    }
    let raw: unknown;
    try {
      raw = readYaml(text);
    } catch (error) {
      const line = yamlErrorLine(error);
      throw new ModelingError('DEPS_FAILED', `${file}${line ? `:${line}` : ''}: not valid YAML`, {
        file,
        cause: error,
      });
    }
    const parsed = packagesSchema.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ModelingError(
        'DEPS_FAILED',
        `${file}: ${issue?.path.join('.') || '(root)'}: expected an entry with 'package' + 'version', 'git' or 'local'`,
        { file, cause: parsed.error },
      );
    }
    const specs = toSpec(parsed.data.packages ?? []);
    return { file, specs, sha1: createHash('sha1').update(text).digest('hex') };
  }
  return undefined;
}

/** One installed package as `package-lock.yml` pins it. */
export type LockedPackage =
  | { name: string; package: string; version: string }
  | { name: string; git: string; revision: string; subdirectory?: string }
  | { name: string; local: string };

/** `package-lock.yml` as dbt writes it: pinned entries and the hash of the requirements file. */
export function lockFileText(packages: readonly LockedPackage[], sha1: string): string {
  return dump({ packages, sha1_hash: sha1 }, { lineWidth: -1, noArrayIndent: true });
}

const lockSchema = z.looseObject({
  packages: z.array(z.record(z.string(), z.unknown())).nullish(),
  sha1_hash: z.string().optional(),
});

/** The lock file of `dir` when it exists and was written for a requirements file with `sha1`. */
export async function readLockFile(dir: string, sha1: string): Promise<PackageSpec[] | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, 'package-lock.yml'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelingError('DEPS_FAILED', 'cannot read package-lock.yml', {
      file: 'package-lock.yml',
      cause: error,
    });
  }
  let parsed: z.infer<typeof lockSchema>;
  try {
    parsed = lockSchema.parse(readYaml(text));
  } catch (error) {
    throw new ModelingError('DEPS_FAILED', 'package-lock.yml is not a dbt lock file', {
      file: 'package-lock.yml',
      cause: error,
    });
  }
  if (parsed.sha1_hash !== sha1) return undefined;
  const entries = packagesSchema.parse({ packages: parsed.packages ?? [] }).packages ?? [];
  return toSpec(entries);
}
