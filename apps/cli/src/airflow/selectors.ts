import { type CompiledGraph, type GraphNode, selectNodes } from '@dataflow/modeling';
import { CliError } from '../errors.js';
import type { TaskTable } from './task-table.js';

const SAFE_SELECTOR = /^[A-Za-z0-9_.:-]+$/;

const invalid = (message: string) => new CliError('CONFIG_INVALID', message);

/**
 * The `--select` value that picks exactly one node: its name, else its fqn. Throws when neither
 * is unambiguous or the name is not shell- and Jinja-safe (letters, digits, `_ . : -`).
 *
 * @example
 * selectorFor(graph, 'model.shop.stg_orders'); // 'stg_orders'
 */
export function selectorFor(graph: CompiledGraph, id: string): string {
  const n = graph.nodes[id] as GraphNode;
  for (const candidate of [n.name, `fqn:${n.fqn.join('.')}`]) {
    if (!SAFE_SELECTOR.test(candidate)) continue;
    const picked = selectNodes(graph, { select: [candidate], indirectSelection: 'empty' });
    if (picked.length === 1 && picked[0] === id) return candidate;
  }
  throw invalid(
    `no selector picks exactly ${n.resourceType} ${JSON.stringify(n.name)} (rename it: letters, digits, _)`,
  );
}

/** Every value of `--<flag>` in a task's args. */
const valuesOf = (args: readonly string[], flag: string) => args.filter((_, i) => args[i - 1] === flag);

/**
 * Makes each build / test task run exactly its own tests: it `--exclude`s the tests its
 * `--select` would pick up that another task runs, then checks with the CLI's own selection
 * code that every test in scope runs exactly once and each build builds exactly its node(s).
 * Throws CliError (exit 2) when a plan would skip or repeat a test.
 *
 * @example
 * pinSelections(graph, table, { seeds: scope.seeds, tests: scope.tests });
 */
export function pinSelections(
  graph: CompiledGraph,
  table: TaskTable,
  scope: { seeds: readonly string[]; tests: readonly string[] },
): void {
  const node = (id: string) => graph.nodes[id] as GraphNode;
  const runs = new Map<string, number>();
  for (const task of table.tasks.values()) {
    task.tests.sort();
    if (task.command !== 'build' && task.command !== 'test') continue;
    const select = valuesOf(task.args, '--select');
    const owned = new Set(task.tests);
    const exclude = selectNodes(graph, { select })
      .filter((id) => node(id).resourceType === 'test' && !owned.has(id))
      .map((id) => selectorFor(graph, id));
    for (const e of exclude.sort()) task.args.push('--exclude', e);
    const ran = selectNodes(graph, { select, ...(exclude.length ? { exclude } : {}) });
    const ranTests = ran.filter((id) => node(id).resourceType === 'test');
    const ranOther = ran.filter((id) => node(id).resourceType !== 'test');
    const expectedOther = task.kind === 'model' ? [task.node] : task.kind === 'seed' ? [...scope.seeds] : [];
    if (
      ranTests.join() !== task.tests.join() ||
      (task.command === 'build' && ranOther.join() !== expectedOther.sort().join())
    )
      throw invalid(`cannot select exactly the nodes of task ${task.taskId} (ambiguous names?)`);
    for (const id of ranTests) runs.set(id, (runs.get(id) ?? 0) + 1);
  }
  for (const t of scope.tests)
    if (runs.get(t) !== 1) throw invalid(`test ${node(t).name} would run ${runs.get(t) ?? 0} times`);
}
