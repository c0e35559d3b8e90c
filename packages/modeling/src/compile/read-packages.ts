import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { type ConfigLayer, folderConfigLayers, type ProjectFile, readProjectFile } from '../project-files.js';
import type { DiagnosticSink } from './diagnostics.js';

/** The root project or one installed package, as the readers walk it. */
export interface ProjectPart {
  /** Directory relative to the root project: '' for the root, `dbt_packages/<dir>` for a package. */
  prefix: string;
  pf: ProjectFile;
  /** Set for an installed package: its nodes' package and its macros' namespace. */
  packageName?: string;
  /** Folder config layers for a file under `tree` (`models` / `seeds`), outermost first. */
  layers(tree: 'models' | 'seeds', parts: string[]): ConfigLayer[];
  /**
   * A package's folder config set in the root project file: dbt applies it after the node's own
   * YAML and `config()` call, so the root project can disable or reconfigure any package model.
   */
  rootLayers?(tree: 'models' | 'seeds', parts: string[]): ConfigLayer[];
}

/**
 * The packages installed under the root project's `packages-install-path` (default
 * `dbt_packages`), sorted by folder. A package's folder config comes from its own project file,
 * then from the root project's `models: { <package>: … }`, which wins over the package's YAML
 * and `config()` calls too, as in dbt. A folder without
 * a readable project file is reported and skipped.
 *
 * @example
 * const parts = await findInstalledPackages(root, rootProjectFile, diagnostics); // [{ prefix: 'dbt_packages/dbt_utils', … }]
 */
export async function findInstalledPackages(
  root: string,
  rootPf: ProjectFile,
  diagnostics: DiagnosticSink,
): Promise<ProjectPart[]> {
  const installPath = rootPf.packagesInstallPath;
  let entries: string[];
  try {
    entries = (await readdir(join(root, installPath), { withFileTypes: true }))
      .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parts: ProjectPart[] = [];
  for (const dir of entries) {
    const prefix = posix.join(installPath, dir);
    let pf: ProjectFile;
    try {
      pf = await readProjectFile(join(root, prefix));
    } catch (error) {
      diagnostics.error('CONFIG_ERROR', `${prefix}: not a dbt package (${(error as Error).message})`, {
        file: prefix,
      });
      continue;
    }
    parts.push({
      prefix,
      pf,
      packageName: pf.name,
      layers: (tree, path) => folderConfigLayers(pf[tree], pf.name, path),
      rootLayers: (tree, path) => folderConfigLayers(rootPf[tree], pf.name, path),
    });
  }
  return parts;
}
