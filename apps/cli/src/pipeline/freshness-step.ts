import { join } from 'node:path';
import { evaluateFreshness, writeSourcesJson } from '@dataflow/modeling';
import { compile } from '../compile-project.js';
import { CliError } from '../errors.js';
import { formatFreshnessTable, freshnessTestResult } from '../freshness-report.js';
import type { Session } from '../session.js';

/**
 * Evaluates the selected sources' freshness, prints the table, records one job and one test row
 * per source and writes `target/sources.json`. Throws CliError TESTS_FAILED (3) when a source is
 * past `error_after`, BUILD_FAILED (1) when one could not be checked.
 */
export async function runFreshness(session: Session, select: string[]): Promise<void> {
  const { project, logger, runLog, runId, totals } = session;
  const started = performance.now();
  const graph = await compile(project, logger, {}, undefined);
  const results = await evaluateFreshness(session.pool, graph, {
    ...(select.length > 0 ? { select } : {}),
    logger: logger.child({ step: 'freshness' }),
    signal: session.invocation.signal,
  });
  if (results.length === 0) {
    logger.warn({ select }, 'no selected source has a freshness rule; nothing to check');
    return;
  }
  session.invocation.io.stdout.write(`${session.redactor.redact(formatFreshnessTable(results))}\n`);
  for (const r of results) {
    const test = freshnessTestResult(r);
    totals.tests[test.status] += 1;
    try {
      await runLog.recordJob({
        runId,
        step: 'test',
        target: `source:${r.sourceName}.${r.tableName}`,
        status: r.status === 'pass' ? 'success' : r.status === 'warn' ? 'warn' : 'failed',
        durationMs: Math.round(r.durationMs),
        ...(r.status === 'pass' || r.status === 'warn'
          ? {}
          : { error: { name: 'SourceFreshness', message: r.message ?? r.status } }),
      });
      await runLog.recordTestResults(runId, [test]);
    } catch (error) {
      logger.warn(
        { source: r.uniqueId, err: { message: (error as Error).message } },
        'could not record a freshness result',
      );
    }
  }
  await writeSourcesJson(join(project.dir, project.config['target-path'] ?? 'target'), {
    invocationId: runId,
    results,
    elapsedMs: performance.now() - started,
  });
  const names = (status: string) =>
    results.filter((r) => r.status === status).map((r) => `${r.sourceName}.${r.tableName}`);
  const broken = names('runtime error');
  if (broken.length > 0)
    throw new CliError(
      'BUILD_FAILED',
      `${broken.length} source(s) could not be checked: ${broken.join(', ')}`,
    );
  const stale = names('error');
  if (stale.length > 0)
    throw new CliError('TESTS_FAILED', `${stale.length} source(s) past error_after: ${stale.join(', ')}`);
}
