import { z } from 'zod';
import { projectArgFields } from '../arg-schemas.js';
import { projectFlags } from '../args.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/**
 * `dataflow deps`: installs `packages.yml` / `dependencies.yml` (hub, git, local) into
 * `packages-install-path` and writes `package-lock.yml`, as `dbt deps`. Not recorded in run_history.
 */
export const depsCommand = defineCommand({
  name: 'deps',
  flags: projectFlags,
  examples: ['dataflow deps', 'dataflow deps --project examples/shop'],
  args: z.object(projectArgFields),
  needs: 'project',
  async run({ project, invocation }) {
    const { installPackages } = await import('@dataflow/modeling');
    const result = await installPackages({ projectDir: project.dir, signal: invocation.signal });
    for (const p of result.packages) println(invocation.io, `${p.name}  ${p.kind}  ${p.pinned}`);
    println(
      invocation.io,
      `installed ${result.packages.length} package(s) into ${result.installDir}${result.fromLockFile ? ' (from package-lock.yml)' : ''}`,
    );
    return undefined;
  },
});
