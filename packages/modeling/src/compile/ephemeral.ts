import { cteName, type RenderedModel } from './render.js';

/**
 * Inlines the ephemeral parents of `id` (transitively) into `body` as CTEs, innermost first, each
 * once; merged into a leading `with` of the body when it has one. Models in a cycle are skipped.
 *
 * @example
 * inlineEphemerals('model.shop.orders', 'select * from __dbt__cte__base', rendered, new Set());
 * // 'with __dbt__cte__base as (\nselect 1\n)\nselect * from __dbt__cte__base'
 */
export function inlineEphemerals(
  id: string,
  body: string,
  rendered: ReadonlyMap<string, RenderedModel>,
  inCycle: ReadonlySet<string>,
): string {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (eid: string) => {
    if (seen.has(eid) || inCycle.has(eid)) return;
    seen.add(eid);
    for (const parent of rendered.get(eid)?.ephemeralRefs ?? []) visit(parent);
    order.push(eid);
  };
  for (const e of rendered.get(id)?.ephemeralRefs ?? []) visit(e);
  if (order.length === 0) return body;
  const ctes = order
    .map(
      (eid) =>
        `${cteName(eid.split('.').slice(2).join('.'))} as (\n${(rendered.get(eid)?.sql ?? '').trim()}\n)`,
    )
    .join(',\n');
  const leading = /^(\s*(?:--[^\n]*\n\s*|\/\*[\s\S]*?\*\/\s*)*)with\s/i.exec(body);
  if (leading) return `${leading[1]}with ${ctes},\n${body.slice(leading[0].length)}`;
  return `with ${ctes}\n${body}`;
}
