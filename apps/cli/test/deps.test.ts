import { lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempProject } from './helpers.js';

describe('dataflow deps', () => {
  it('installs a local package, writes package-lock.yml', async () => {
    const dir = await tempProject({
      'dataflow.yml': 'name: shop\n',
      'packages.yml': 'packages:\n  - local: utils\n',
      'utils/dbt_project.yml': 'name: my_utils\n',
      'utils/macros/double.sql': '{% macro double(x) %}({{ x }} * 2){% endmacro %}\n',
    });
    const r = await cli(['deps', '--project', '.'], { cwd: dir, env: {} });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^my_utils {2}local {2}\S+utils\ninstalled 1 package\(s\) into \S+dbt_packages\n$/,
    );
    expect((await lstat(join(dir, 'dbt_packages/my_utils'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'package-lock.yml'), 'utf8')).toContain('local: utils');
    await rm(dir, { recursive: true, force: true });
  });
});
