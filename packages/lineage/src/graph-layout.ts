/** A node's position in the laid-out graph (top-left corner, in px). */
export interface Position {
  x: number;
  y: number;
}

/** Sizes the layout works with. */
export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  columnGap: number;
  rowGap: number;
  /** Within a column, lower groups go above higher ones (the site puts tests under models). */
  groupOf?: ((id: string) => number) | undefined;
}

/** The defaults the site uses. */
export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 200, nodeHeight: 36, columnGap: 90, rowGap: 18 };

/**
 * Longest-path layering of a DAG: a node's column is one more than its furthest parent's, so
 * lake → raw → staging → marts → tests read left to right. Within a column nodes are ordered
 * by the mean row of their parents (a few downward sweeps, ties by id), which keeps edges short
 * and the result deterministic. Edges to unknown ids and cycles are ignored (cycle members stay
 * in the column reached first).
 *
 * @example
 * layoutGraph(['a', 'b'], [{ from: 'a', to: 'b' }]); // Map { 'a' => { x: 0, y: 0 }, 'b' => { x: 290, y: 0 } }
 */
export function layoutGraph(
  ids: readonly string[],
  edges: ReadonlyArray<{ from: string; to: string }>,
  options: LayoutOptions = DEFAULT_LAYOUT,
): Map<string, Position> {
  const known = new Set(ids);
  const parents = new Map<string, string[]>(ids.map((id) => [id, []]));
  const children = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const { from, to } of edges) {
    if (!known.has(from) || !known.has(to) || from === to) continue;
    parents.get(to)?.push(from);
    children.get(from)?.push(to);
  }
  const column = layers(ids, parents, children);
  let width = 0;
  for (const c of column.values()) width = Math.max(width, c + 1);
  const columns: string[][] = Array.from({ length: width }, () => []);
  for (const id of [...ids].sort()) columns[column.get(id) ?? 0]?.push(id);
  const row = new Map<string, number>();
  const number = (col: string[]) => {
    for (const [i, id] of col.entries()) row.set(id, i);
  };
  for (const col of columns) number(col);
  for (let sweep = 0; sweep < 4; sweep++) {
    for (const col of columns.slice(1)) {
      const key = (id: string) => {
        const ps = (parents.get(id) ?? []).map((p) => row.get(p) ?? 0);
        return ps.length === 0 ? (row.get(id) ?? 0) : ps.reduce((a, b) => a + b, 0) / ps.length;
      };
      const keys = new Map(col.map((id) => [id, key(id)]));
      const group = options.groupOf ?? (() => 0);
      col.sort(
        (a, b) =>
          group(a) - group(b) || (keys.get(a) ?? 0) - (keys.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
      );
      number(col);
    }
  }
  const positions = new Map<string, Position>();
  columns.forEach((col, c) => {
    col.forEach((id, r) => {
      positions.set(id, {
        x: c * (options.nodeWidth + options.columnGap),
        y: r * (options.nodeHeight + options.rowGap),
      });
    });
  });
  return positions;
}

/** Column of each node: longest path from a root, by Kahn's order (cycle members keep 0 + reached). */
function layers(
  ids: readonly string[],
  parents: Map<string, string[]>,
  children: Map<string, string[]>,
): Map<string, number> {
  const indegree = new Map(ids.map((id) => [id, parents.get(id)?.length ?? 0]));
  const column = new Map<string, number>(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i] as string;
    for (const child of children.get(id) ?? []) {
      column.set(child, Math.max(column.get(child) ?? 0, (column.get(id) ?? 0) + 1));
      const left = (indegree.get(child) ?? 0) - 1;
      indegree.set(child, left);
      if (left === 0) queue.push(child);
    }
  }
  return column;
}
