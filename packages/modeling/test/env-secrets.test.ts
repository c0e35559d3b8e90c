import { describe, expect, it } from 'vitest';
import { compileProject } from '../src/index.js';
import { writeProject } from './helpers.js';

// dbt's rule: env_var() values of DBT_ENV_SECRET_* variables are secrets; the caller's redactor
// learns them at compile time, so they never reach logs or the run log.
describe('env_var secrets', () => {
  it('hands every DBT_ENV_SECRET_* value a template reads to the redactor, and nothing else', async () => {
    const dir = await writeProject({
      'dbt_project.yml': 'name: shop\nversion: "1"\nconfig-version: 2\nprofile: shop\n',
      'models/calls.sql': [
        `select '{{ env_var("DBT_ENV_SECRET_API_TOKEN") }}' as token,`,
        ` '{{ env_var("PLAIN_REGION", "eu") }}' as region`,
      ].join('\n'),
    });
    const secrets: string[] = [];
    const { graph, diagnostics } = await compileProject({
      dir,
      schema: 'analytics',
      env: { DBT_ENV_SECRET_API_TOKEN: 's3cr3t-token', PLAIN_REGION: 'us' },
      redact: (s) => secrets.push(s),
    });
    expect(diagnostics).toEqual([]);
    expect(secrets).toContain('s3cr3t-token');
    expect(secrets).not.toContain('us');
    const node = graph.nodes['model.shop.calls'] as { compiledSql: string };
    expect(node.compiledSql).toContain("'us' as region");
  });
});
