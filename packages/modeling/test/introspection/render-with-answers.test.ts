import { describe, expect, it } from 'vitest';
import { renderWithAnswers } from '../../src/introspection/render-with-answers.js';
import type { IntrospectionRequest, QueryResult, RelationColumn } from '../../src/introspection/requests.js';

const column = (name: string): RelationColumn => ({
  name,
  dataType: 'integer',
  charMaxLength: null,
  numericPrecision: 32,
  numericScale: 0,
});

describe('renderWithAnswers (synchronous render, asynchronous warehouse)', () => {
  it("answers star(ref('x')) in two passes and one round trip, raising nothing from the stand-in pass", async () => {
    const asked: IntrospectionRequest[][] = [];
    const result = await renderWithAnswers(
      (answers) => {
        const cols = answers.ask({ kind: 'columns', schema: 'a', identifier: 'x' });
        // like dbt_utils.star, which raises on a relation without columns
        if (cols.length === 0) throw new Error('no columns');
        return `select ${cols.map((c) => `"${c.name}"`).join(', ')} from "a"."x"`;
      },
      async (requests) => {
        asked.push(requests);
        return [[column('id'), column('amount')]];
      },
    );
    expect(result).toEqual({ sql: 'select "id", "amount" from "a"."x"', passes: 2, questions: 1 });
    expect(asked).toEqual([[{ kind: 'columns', schema: 'a', identifier: 'x' }]]);
  });

  it('batches independent questions and takes one more pass per dependent level', async () => {
    const batches: number[] = [];
    const result = await renderWithAnswers(
      (answers) => {
        const a = answers.ask({ kind: 'query', sql: 'select 1' });
        const b = answers.ask({ kind: 'relation', schema: 's', identifier: 't' });
        const c = answers.ask({ kind: 'query', sql: `select ${a.rows.length + (b ? 1 : 0)}` });
        return String(c.rows[0]?.[0] ?? 'pending');
      },
      async (requests) => {
        batches.push(requests.length);
        return requests.map((r) =>
          r.kind === 'relation'
            ? { schema: 's', identifier: 't', type: 'table' as const }
            : ({
                columns: [{ name: 'n', type: 'integer' }],
                rows: [[r.kind === 'query' ? r.sql : '']],
              } as QueryResult),
        );
      },
    );
    // pass 1 asks a and b (c is asked as 'select 0'), pass 2 asks 'select 2', pass 3 is complete
    expect(batches).toEqual([3, 1]);
    expect(result).toMatchObject({ sql: 'select 2', passes: 3 });
  });

  it('reports a render error once nothing is pending, and a warehouse error as it is', async () => {
    await expect(
      renderWithAnswers(
        () => {
          throw new Error('boom at line 3');
        },
        async () => [],
      ),
    ).rejects.toThrow('boom at line 3');
    await expect(
      renderWithAnswers(
        (answers) => JSON.stringify(answers.ask({ kind: 'query', sql: 'select nope' })),
        async () => {
          throw Object.assign(new Error('column "nope" does not exist'), { code: '42703' });
        },
      ),
    ).rejects.toMatchObject({ code: '42703' });
  });
});
