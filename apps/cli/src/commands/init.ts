import { z } from 'zod';
import { CliError } from '../errors.js';
import { EXIT } from '../exit-codes.js';
import { println } from '../io.js';
import { defineCommand } from '../lifecycle.js';

/** `dataflow init DIR`: writes a small working project (CSV source, staging view, mart, tests). */
export const initCommand = defineCommand({
  name: 'init',
  flags: {
    name: { type: 'string', description: 'Project name (default: the directory name)', valueHint: 'NAME' },
    typescript: { type: 'boolean', description: 'Scaffold dataflow.config.ts with TypeScript models' },
    force: {
      type: 'boolean',
      description: 'Write into a non-empty directory (existing files are overwritten)',
    },
  },
  positionals: [
    { name: 'dir', description: 'Directory to create (must be empty or missing)', required: true },
  ],
  examples: ['dataflow init shop', 'dataflow init shop --typescript', 'dataflow init . --name shop --force'],
  args: z.object({
    _: z.tuple([z.string().min(1, 'expected a directory')]),
    name: z.string().min(1).optional(),
    typescript: z.boolean().optional(),
    force: z.boolean().optional(),
  }),
  needs: 'nothing',
  async run({ args, invocation }) {
    const [{ mkdir, readdir, writeFile }, { basename, dirname, join, resolve }, scaffold, { VERSION }] =
      await Promise.all([
        import('node:fs/promises'),
        import('node:path'),
        import('../scaffold.js'),
        import('../version.js'),
      ]);
    const dir = resolve(invocation.cwd, args._[0]);
    const existing = await readdir(dir).catch(() => [] as string[]);
    if (existing.length > 0 && !args.force) {
      throw new CliError('INIT_TARGET_NOT_EMPTY', `${dir} is not empty (use --force to write anyway)`);
    }
    const rawName = args.name ?? basename(dir);
    const name = rawName.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(\d)/, '_$1') || 'project';
    const files = args.typescript ? scaffold.scaffoldTsFiles(name, VERSION) : scaffold.scaffoldFiles(name);
    for (const [path, content] of Object.entries(files)) {
      const target = join(dir, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
    println(invocation.io, `created ${name} in ${dir} (${Object.keys(files).length} files)`);
    const install = args.typescript ? ' && npm install' : '';
    println(invocation.io, `next: cd ${dir}${install} && dataflow run --date 2026-05-01`);
    return EXIT.OK;
  },
});
