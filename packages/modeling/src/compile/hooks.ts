import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { CompileContext } from './context.js';

/** A model's hooks as configured: Jinja text, every layer's in order (see `mergeLayers`). */
export interface HookTexts {
  pre: string[];
  post: string[];
}

/** One hook's text: a string, or dbt's `{ sql: …, transaction: … }` mapping. */
function hookText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { sql?: unknown }).sql === 'string')
    return (value as { sql: string }).sql;
  return undefined;
}

/**
 * A hook config value (a string, a list of strings or `{ sql }` mappings) as a list of texts;
 * blank hooks are dropped, as dbt runs nothing for them.
 *
 * @example
 * hookList(['grant select on {{ this }} to reporter', '']); // ['grant select on {{ this }} to reporter']
 */
export function hookList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map(hookText).filter((t): t is string => t !== undefined && t.trim() !== '');
}

/**
 * The pre- and post-hooks of a merged raw config (`pre-hook` / `post-hook`, which `mergeLayers`
 * accumulates across layers under those keys).
 *
 * @example
 * modelHookTexts({ 'post-hook': ['analyze {{ this }}'] }); // { pre: [], post: ['analyze {{ this }}'] }
 */
export function modelHookTexts(raw: ConfigLayer | undefined): HookTexts {
  return { pre: hookList(raw?.['pre-hook']), post: hookList(raw?.['post-hook']) };
}

/**
 * The project's `on-run-start` / `on-run-end` hooks rendered (no model: `{{ this }}` is empty,
 * `ref()` / `source()` fail); a hook that does not render is a `CONFIG_ERROR` naming it.
 *
 * @example
 * renderRunHooks(ctx, 'on-run-start', ['create table if not exists {{ target.schema }}.audit (x text)']);
 */
export function renderRunHooks(
  ctx: CompileContext,
  phase: 'on-run-start' | 'on-run-end',
  texts: string[] | undefined,
): string[] {
  const file = 'dbt_project.yml';
  const unavailable = (what: string) => () => {
    throw new Error(`${what}() is not available in ${phase} hooks`);
  };
  const out: string[] = [];
  for (const [i, text] of (texts ?? []).entries()) {
    try {
      const sql = ctx.jinja.render(text, file, {
        ref: unavailable('ref'),
        source: unavailable('source'),
        config: () => undefined,
        var: ctx.varFor(undefined),
        thisRelation: '',
        isIncremental: false,
      });
      // A hook that renders to nothing (`{% if execute %}…` while compiling) runs nothing.
      if (sql.trim() !== '') out.push(sql);
    } catch (error) {
      ctx.diagnostics.error(
        'CONFIG_ERROR',
        `${file}: ${phase} ${i + 1} (${JSON.stringify(text)}) cannot render: ${templateProblem(error, file).message}`,
        { file },
      );
    }
  }
  return out;
}
