import type { Logger } from '@dataflow/runlog';

/**
 * Routes `process.emitWarning` (e.g. the AWS SDK's `NodeVersionSupportWarning`) through `logger`
 * as one structured warn line instead of Node's plain-text print on stderr, which would break the
 * JSON log stream. Returns a function that puts the previous listeners back.
 *
 * @example
 * const restore = routeProcessWarnings(logger); try { await work(); } finally { restore(); }
 */
export function routeProcessWarnings(logger: Logger): () => void {
  const previous = process.listeners('warning');
  process.removeAllListeners('warning');
  const onWarning = (warning: Error) => {
    // The SDK puts its name in the message ("NodeVersionSupportWarning: …"); keep the first line.
    const [first = '', ...rest] = warning.message.split('\n');
    const named = /^([A-Za-z]+Warning): (.*)$/.exec(first);
    logger.warn(
      {
        warning: named?.[1] ?? warning.name,
        detail: rest.join(' ').replace(/\s+/g, ' ').trim() || undefined,
      },
      named?.[2] ?? first,
    );
  };
  process.on('warning', onWarning);
  return () => {
    process.removeListener('warning', onWarning);
    for (const listener of previous) process.on('warning', listener);
  };
}
