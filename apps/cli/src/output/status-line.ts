import type { Palette } from './colors.js';

/** The status words of dbt's result lines, each with its colour. */
export type StatusWord = 'OK' | 'PASS' | 'WARN' | 'FAIL' | 'ERROR' | 'SKIP';

const COLOR: Record<StatusWord, keyof Palette> = {
  OK: 'green',
  PASS: 'green',
  WARN: 'yellow',
  SKIP: 'yellow',
  FAIL: 'red',
  ERROR: 'red',
};

/** Where the dot leader ends, as dbt pads its lines (80 columns with its timestamp). */
const LEADER_END = 70;

/**
 * One dbt-style result line: `3 of 8 OK created table model analytics.fct_orders .... [SELECT
 * 1000 in 0.42s]`, the status and the bracket in the status's colour. Pure.
 *
 * @example
 * statusLine({ index: 3, total: 8, word: 'OK', text: 'created table model a.b', result: 'SELECT 1 in 0.42s' }, palette(false));
 */
export function statusLine(
  line: { index: number; total: number; word: StatusWord; text: string; result: string },
  colors: Palette,
): string {
  const paint = colors[COLOR[line.word]];
  const head = `${line.index} of ${line.total} ${line.word} ${line.text} `;
  const dots = '.'.repeat(Math.max(3, LEADER_END - head.length));
  const word = line.word === 'OK' || line.word === 'PASS' ? line.word : colors.bold(line.word);
  return `${line.index} of ${line.total} ${paint(word)} ${line.text} ${colors.dim(dots)} [${paint(line.result)}]`;
}
