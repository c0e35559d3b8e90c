import picocolors from 'picocolors';

/** The colour functions output formatters take: identity functions when colour is off. */
export type Palette = Pick<
  ReturnType<typeof picocolors.createColors>,
  'green' | 'yellow' | 'red' | 'cyan' | 'dim' | 'bold'
>;

/**
 * Whether to colour output, by the conventions of no-color.org and FORCE_COLOR: `NO_COLOR`
 * (non-empty) turns colour off, `FORCE_COLOR` turns it on (`0` / `false` off), otherwise colour
 * when the stream is a terminal that is not `TERM=dumb`.
 *
 * @example
 * colorEnabled({ NO_COLOR: '1' }, true); // false
 */
export function colorEnabled(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY && env.TERM !== 'dumb';
}

/**
 * The palette for `enabled` (picocolors; identity functions when off).
 *
 * @example
 * palette(false).green('OK'); // 'OK'
 */
export function palette(enabled: boolean): Palette {
  return picocolors.createColors(enabled);
}
