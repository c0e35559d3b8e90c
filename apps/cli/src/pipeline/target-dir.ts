import { join } from 'node:path';
import type { LoadedProject } from '../config/load.js';

/**
 * Where the project's artifacts go (`target-path`, default `target/` in the project). A module of
 * its own: `load` writes run_results.json there without importing the build's modules.
 *
 * @example
 * targetDirOf(project); // '/srv/shop/target'
 */
export const targetDirOf = (project: LoadedProject) =>
  join(project.dir, project.config['target-path'] ?? 'target');
