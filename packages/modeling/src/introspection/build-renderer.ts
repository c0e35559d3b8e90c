import { sqlStateOf } from '@dataflow/pg';
import type { CompileContext } from '../compile/context.js';
import { inlineEphemerals } from '../compile/ephemeral.js';
import type { Linker } from '../compile/link.js';
import type { NamedModel } from '../compile/parse-models.js';
import { type RenderedModel, renderModelSql } from '../compile/render.js';
import { ModelingError } from '../errors.js';
import { TemplateError } from '../jinja/errors.js';
import { templateProblem } from '../jinja.js';
import { type Introspector, renderWithAnswers } from './render-with-answers.js';

/** What a build-time render gives: the model's SQL (ephemeral parents inlined) and its cost. */
export interface BuildRender {
  sql: string;
  /** Renders done (one more than the levels of dependent questions). */
  passes: number;
  /** Questions the warehouse answered. */
  questions: number;
}

/**
 * Renders models again just before they run, with `execute` true and the warehouse answering
 * `run_query`, `adapter.get_columns_in_relation`… (dbt's run-time render). Made by
 * `compileProject` (it holds the compile's macros, vars and name table, so it is not part of the
 * serialisable graph) and handed to `build` as {@link BuildOptions.renderer}.
 */
export interface BuildRenderer {
  /** Whether the model is a Jinja template (plain SQL and TypeScript models render to what compile gave). */
  renders(nodeId: string): boolean;
  /**
   * The model's SQL with `is_incremental()` as given, asking `introspect` what the template asks.
   * Throws `ModelingError('COMPILE_FAILED')` naming the file and line of a template error.
   */
  render(
    nodeId: string,
    isIncremental: boolean,
    introspect: Introspector,
    options?: { signal?: AbortSignal },
  ): Promise<BuildRender>;
  /** Whether the test is one that renders only at build time (`TestNode.renderAtBuild`). */
  rendersTest?(nodeId: string): boolean;
  /**
   * That test's SQL rendered with `execute` true, asking `introspect` what it asks. Throws
   * `ModelingError('COMPILE_FAILED')` when it fails or still renders no SQL.
   */
  renderTest?(nodeId: string, introspect: Introspector, options?: { signal?: AbortSignal }): Promise<string>;
}

/** What {@link createBuildRenderer} needs from the compile. */
export interface BuildRendererInput {
  ctx: CompileContext;
  models: readonly NamedModel[];
  linker: Linker;
  /** The compile's renders: ephemeral parents are inlined from them. */
  rendered: ReadonlyMap<string, RenderedModel>;
  inCycle: ReadonlySet<string>;
  /** Tests that render only at build time: their render (`compileTests`' `buildTimeTests`). */
  tests?: ReadonlyMap<string, () => string>;
}

const JINJA = /\{[{%#]/;

/**
 * @example
 * const renderer = createBuildRenderer({ ctx, models, linker, rendered, inCycle });
 * const { sql } = await renderer.render('model.shop.orders', false, createPgIntrospector(client));
 */
export function createBuildRenderer(input: BuildRendererInput): BuildRenderer {
  const { ctx, linker, rendered, inCycle } = input;
  const byId = new Map(
    input.models
      .filter((m) => m.src.rawSql !== undefined && JINJA.test(m.src.rawSql))
      .map((m) => [m.uniqueId, m]),
  );
  const tests = input.tests ?? new Map<string, () => string>();
  return {
    renders: (nodeId) => byId.has(nodeId),
    rendersTest: (nodeId) => tests.has(nodeId),
    async renderTest(nodeId, introspect, options = {}) {
      const render = tests.get(nodeId);
      if (!render) throw new TypeError(`no build-time render for ${nodeId}`);
      try {
        const result = await renderWithAnswers(
          (answers) => ctx.jinja.introspection.executing(answers, render),
          introspect,
          options.signal ? { signal: options.signal } : {},
        );
        return result.sql;
      } catch (error) {
        // A warehouse error keeps its SQLSTATE; a template or test problem becomes COMPILE_FAILED.
        if (sqlStateOf(error)) throw error;
        throw new ModelingError(
          'COMPILE_FAILED',
          `${nodeId}: build-time render (execute true) failed: ${(error as Error).message}`,
          { node: nodeId, cause: error },
        );
      }
    },
    async render(nodeId, isIncremental, introspect, options = {}) {
      const model = byId.get(nodeId);
      if (!model) throw new TypeError(`no build-time render for ${nodeId}`);
      let result: Awaited<ReturnType<typeof renderWithAnswers<{ sql: string; ephemeralRefs: string[] }>>>;
      try {
        result = await renderWithAnswers(
          (answers) =>
            ctx.jinja.introspection.executing(answers, () =>
              renderModelSql(ctx, model, linker, isIncremental),
            ),
          introspect,
          options.signal ? { signal: options.signal } : {},
        );
      } catch (error) {
        // A warehouse error keeps its SQLSTATE; only template errors become COMPILE_FAILED.
        if (!(error instanceof TemplateError)) throw error;
        const file = model.src.file ?? model.src.name;
        const p = templateProblem(error, file, model.src.rawSql);
        throw new ModelingError(
          'COMPILE_FAILED',
          `${file}${p.line ? `:${p.line}` : ''}: build-time render (execute true) failed: ${p.message}`,
          { node: nodeId, file, cause: error },
        );
      }
      const own = rendered.get(nodeId);
      const fresh: RenderedModel = { ...own, sql: result.sql.sql, ephemeralRefs: result.sql.ephemeralRefs };
      const view = new Map(rendered).set(nodeId, fresh);
      return {
        sql: inlineEphemerals(nodeId, result.sql.sql, view, inCycle),
        passes: result.passes,
        questions: result.questions,
      };
    },
  };
}
