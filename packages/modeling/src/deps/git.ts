import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ModelingError } from '../errors.js';

const run = promisify(execFile);

/** How long one `git` command may take (a clone of a large repository over a slow link). */
const GIT_TIMEOUT_MS = 300_000;

async function git(args: string[], signal: AbortSignal, cwd?: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, {
      cwd,
      signal,
      timeout: GIT_TIMEOUT_MS,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
    return stdout.trim();
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    // The URL may carry a token (https://user:token@host/...): name the command, not its arguments.
    throw new ModelingError('DEPS_FAILED', `git ${args[0]} failed: ${stderr.split('\n').at(-1) ?? ''}`, {
      file: 'packages.yml',
      cause: error,
      retryable: false,
    });
  }
}

/**
 * Clones `url` at `revision` (a tag, branch or commit; the default branch when absent) and copies
 * the repository, or its `subdirectory`, to `dest` without `.git`. Returns the commit installed.
 */
export async function installGitPackage(
  spec: { git: string; revision?: string; subdirectory?: string },
  dest: string,
  scratchDir: string,
  signal: AbortSignal,
): Promise<string> {
  const clone = await mkdtemp(join(scratchDir, '.git-'));
  try {
    await git(['clone', '--quiet', '--no-checkout', spec.git, clone], signal);
    await git(['checkout', '--quiet', spec.revision ?? 'HEAD'], signal, clone);
    const commit = await git(['rev-parse', 'HEAD'], signal, clone);
    const from = spec.subdirectory ? join(clone, spec.subdirectory) : clone;
    await cp(from, dest, { recursive: true, filter: (src) => !src.endsWith(`${clone}/.git`) }).catch(
      (error: unknown) => {
        throw new ModelingError(
          'DEPS_FAILED',
          `${spec.subdirectory ? `subdirectory '${spec.subdirectory}'` : 'repository'} of a git package cannot be copied`,
          { file: 'packages.yml', cause: error },
        );
      },
    );
    return commit;
  } finally {
    await rm(clone, { recursive: true, force: true });
  }
}
