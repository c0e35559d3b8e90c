import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { CliError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { println } from '../io.js';
import { scaffoldFiles } from '../scaffold.js';
import type { Invocation } from '../session.js';

/** `dataflow init DIR`: writes a small working project (CSV source, staging view, mart, tests). */
export const initCommand = defineCommand({
  meta: { name: 'init', description: 'Scaffold a working example project in DIR' },
  args: {
    dir: {
      type: 'positional',
      description: 'Directory to create (must be empty or missing)',
      required: true,
    },
    name: { type: 'string', description: 'Project name (default: the directory name)', valueHint: 'NAME' },
    force: {
      type: 'boolean',
      description: 'Write into a non-empty directory (existing files are overwritten)',
    },
  },
  async run(ctx) {
    const invocation = (ctx.data as { invocation: Invocation }).invocation;
    try {
      const dir = resolve(invocation.cwd, String(ctx.args.dir));
      const existing = await readdir(dir).catch(() => [] as string[]);
      if (existing.length > 0 && !ctx.args.force) {
        throw new CliError('INIT_TARGET_NOT_EMPTY', `${dir} is not empty (use --force to write anyway)`);
      }
      const rawName = (ctx.args.name as string | undefined) ?? basename(dir);
      const name = rawName.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'project';
      const files = scaffoldFiles(name);
      for (const [path, content] of Object.entries(files)) {
        const target = join(dir, path);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
      println(invocation.io, `created ${name} in ${dir} (${Object.keys(files).length} files)`);
      println(invocation.io, `next: cd ${dir} && dataflow run --date 2026-05-01`);
      invocation.exitCode = 0;
    } catch (error) {
      invocation.io.stderr.write(`dataflow init: ${(error as Error).message.split('\n')[0]}\n`);
      invocation.exitCode = exitCodeFor(error);
    }
  },
});
