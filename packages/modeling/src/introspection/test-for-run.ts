import type { CompiledTest, TestResult } from '@dataflow/quality';
import type pg from 'pg';
import { ModelingError } from '../errors.js';
import type { TestNode } from '../graph.js';
import type { Logger } from '../materialize.js';
import type { BuildRenderer } from './build-renderer.js';
import { createPgIntrospector } from './pg-introspector.js';

/** What {@link testForRun} needs from the build. */
export interface TestForRunOptions {
  renderer?: BuildRenderer | undefined;
  /** The tested relation's SQL to render against (write-audit-publish: the temp relation). */
  relation?: string;
  signal?: AbortSignal | undefined;
  logger?: Logger | undefined;
}

/**
 * The test as it runs: as compiled, or, when compile left its SQL pending (`compiled.pending`: its
 * Jinja needs the warehouse), rendered now with `execute` true on `client`, as dbt compiles a test
 * again at run time. Throws `ModelingError('COMPILE_FAILED')` naming the test and its file when
 * it cannot be rendered (no renderer, a template error, still no SQL).
 *
 * @example
 * const compiled = await testForRun(node, client, { renderer, relation: temp.sql });
 * const result = await runTest(client, compiled);
 */
export async function testForRun(
  test: TestNode,
  client: pg.ClientBase,
  options: TestForRunOptions,
): Promise<CompiledTest> {
  if (!test.compiled.pending) return test.compiled;
  const { renderer, signal, logger } = options;
  if (!renderer)
    throw new ModelingError(
      'COMPILE_FAILED',
      `test ${test.name} (${test.file ?? test.name}): its SQL needs a build-time render (execute true): pass compileProject's renderer to build`,
      { node: test.uniqueId, ...(test.file ? { file: test.file } : {}) },
    );
  const rendered = await renderer.renderTest(test.uniqueId, createPgIntrospector(client), {
    ...(options.relation !== undefined ? { relation: options.relation } : {}),
    ...(signal ? { signal } : {}),
  });
  logger?.debug(
    { node: test.uniqueId, passes: rendered.passes, questions: rendered.questions },
    'test rendered at build time',
  );
  return rendered.compiled;
}

/**
 * The result of a test that could not be rendered at build time: status `error` with the render's
 * message, as dbt reports a test whose run-time compile failed.
 *
 * @example
 * out.push({ uniqueId: test.uniqueId, result: renderFailure(test, error, new Date().toISOString()) });
 */
export function renderFailure(test: TestNode, error: Error, startedAt: string): TestResult {
  return {
    name: test.name,
    test: test.compiled.test,
    ...(test.compiled.model !== undefined ? { model: test.compiled.model } : {}),
    ...(test.compiled.column !== undefined ? { column: test.compiled.column } : {}),
    status: 'error',
    severity: test.severity,
    failures: 0,
    sql: test.compiled.sql,
    durationMs: 0,
    sample: [],
    message: error.message,
    startedAt,
  };
}
