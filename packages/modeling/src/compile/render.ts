import { templateProblem } from '../jinja.js';
import type { CompileContext } from './context.js';
import { modelHookTexts } from './hooks.js';
import { modelDict } from './jinja-graph.js';
import type { Linker } from './link.js';
import { type NamedModel, refPlaceholder, sourcePlaceholder, TOKEN } from './parse-models.js';

/** A model's final SQL before its ephemeral parents are inlined. */
export interface RenderedModel {
  sql: string;
  /** Incremental models: the SQL with `is_incremental()` true. */
  incrementalSql?: string;
  /** Unique ids of the ephemeral models it reads (inlined as CTEs by {@link inlineEphemerals}). */
  ephemeralRefs: string[];
  /** Its `pre-hook` / `post-hook` statements, rendered with the model's context. */
  preHooks?: string[];
  postHooks?: string[];
}

/** The CTE name an ephemeral model is inlined as (dbt's). */
export const cteName = (name: string): string => `__dbt__cte__${name}`;

/**
 * Renders one model with relations resolved, `is_incremental()` as given. Callable on its own so
 * the build can render a node again just before it runs; throws the template's error.
 *
 * @example
 * renderModelSql(ctx, model, linker, false); // { sql: 'select * from "analytics"."stg_orders"', ephemeralRefs: [] }
 */
export function renderModelSql(
  ctx: CompileContext,
  model: NamedModel,
  linker: Linker,
  isIncremental: boolean,
  node?: Record<string, unknown>,
): { sql: string; ephemeralRefs: string[] } {
  const ephemeralRefs = new Set<string>();
  const sql = model.src.render({
    ref: (n) => resolveRef(linker, n, ephemeralRefs),
    source: (s, t) => resolveSource(linker, s, t),
    config: () => undefined,
    var: ctx.varFor(model.src.packageName),
    thisRelation: model.relation.sql,
    isIncremental,
    model: node ?? modelContext(ctx, model),
  });
  return { sql, ephemeralRefs: [...ephemeralRefs] };
}

/** dbt's `model` for a named model (config, relation, refs and sources known). */
export function modelContext(ctx: CompileContext, model: NamedModel): Record<string, unknown> {
  return modelDict(ctx.projectName, {
    ...model.src,
    uniqueId: model.uniqueId,
    packageName: model.src.packageName ?? ctx.projectName,
    config: model.config,
    ...(model.rawConfig ? { rawConfig: model.rawConfig } : {}),
    relation: model.relation,
    refs: model.refs,
    sources: model.sources,
  });
}

function resolveRef(linker: Linker, name: string, ephemerals: Set<string>): string {
  const r = linker.ref(name);
  if (!r) return refPlaceholder(name);
  if (r.ephemeral) {
    ephemerals.add(r.nodeIds[0] as string);
    return cteName(name);
  }
  return r.relation.sql;
}

/**
 * A model's hooks rendered as dbt renders them: with the model's context, `{{ this }}` its
 * published relation. Throws the first hook's template error, naming the hook.
 *
 * @example
 * renderModelHooks(ctx, model, linker); // { preHooks: [], postHooks: ['insert into audit values (\'"analytics"."orders"\')'] }
 */
export function renderModelHooks(
  ctx: CompileContext,
  model: NamedModel,
  linker: Linker,
): { preHooks: string[]; postHooks: string[] } {
  const texts = modelHookTexts(model.rawConfig);
  const file = model.src.file ?? model.src.name;
  const render = (kind: string) => (text: string, i: number) => {
    try {
      return ctx.jinja.render(text, file, {
        ref: (n) => resolveRef(linker, n, new Set()),
        source: (s, t) => resolveSource(linker, s, t),
        config: () => undefined,
        var: ctx.varFor(model.src.packageName),
        thisRelation: model.relation.sql,
        isIncremental: false,
        model: modelContext(ctx, model),
      });
    } catch (error) {
      throw new Error(`${kind} ${i + 1} (${JSON.stringify(text)}): ${templateProblem(error, file).message}`, {
        cause: error,
      });
    }
  };
  // A hook that renders to nothing (`{% if execute %}…` while compiling) runs nothing.
  const nonBlank = (sql: string) => sql.trim() !== '';
  return {
    preHooks: texts.pre.map(render('pre-hook')).filter(nonBlank),
    postHooks: texts.post.map(render('post-hook')).filter(nonBlank),
  };
}

const resolveSource = (linker: Linker, s: string, t: string) =>
  linker.source(s, t)?.relation.sql ?? sourcePlaceholder(s, t);

/**
 * The first render with its tokens substituted; undefined when the model has no tokenized render
 * or some token did not come out intact (each `ref()` / `source()` value exactly once, nothing
 * else looking like a token): then the model is rendered again.
 */
export function substituteTokens(
  model: NamedModel,
  linker: Linker,
): { sql: string; ephemeralRefs: string[] } | undefined {
  if (!model.tokenized) return undefined;
  const { sql: text, tokens } = model.tokenized;
  const seen = new Set<number>();
  const ephemerals = new Set<string>();
  let intact = true;
  const out = text.replace(TOKEN, (_m, key: string) => {
    if (key === 'this') return model.relation.sql;
    const index = Number(key);
    const value = tokens[index];
    if (value === undefined || seen.has(index)) intact = false;
    seen.add(index);
    if (value === undefined) return '';
    return 'ref' in value
      ? resolveRef(linker, value.ref, ephemerals)
      : resolveSource(linker, ...value.source);
  });
  if (!intact || seen.size !== tokens.length || out.includes('\uE000')) return undefined;
  return { sql: out, ephemeralRefs: [...ephemerals] };
}

/**
 * Compile phase of models: each model's final SQL (and incremental SQL), reporting template errors
 * per model; a model that fails (or whose first render failed) is absent from the result.
 *
 * @example
 * const rendered = renderModels(ctx, models, linker); // Map { 'model.shop.orders' => { sql, ephemeralRefs } }
 */
export function renderModels(
  ctx: CompileContext,
  models: NamedModel[],
  linker: Linker,
): Map<string, RenderedModel> {
  const rendered = new Map<string, RenderedModel>();
  for (const m of models) {
    // Its first render failed and was reported: rendering again would only repeat the error.
    if (m.failed) continue;
    try {
      const main = substituteTokens(m, linker) ?? renderModelSql(ctx, m, linker, false);
      const incremental =
        m.config.materialized === 'incremental' ? renderModelSql(ctx, m, linker, true) : undefined;
      const hooks = renderModelHooks(ctx, m, linker);
      rendered.set(m.uniqueId, {
        ...(hooks.preHooks.length > 0 ? { preHooks: hooks.preHooks } : {}),
        ...(hooks.postHooks.length > 0 ? { postHooks: hooks.postHooks } : {}),
        sql: main.sql,
        ...(incremental ? { incrementalSql: incremental.sql } : {}),
        // The incremental branch may read other ephemeral models: both renders' CTEs are inlined.
        ephemeralRefs: [...new Set([...main.ephemeralRefs, ...(incremental?.ephemeralRefs ?? [])])],
      });
    } catch (error) {
      const prob = templateProblem(error, m.src.file ?? m.src.name, m.src.rawSql);
      ctx.diagnostics.at(m.src.name, m.src.file).error('TEMPLATE_ERROR', prob.message, prob.line);
    }
  }
  return rendered;
}
