/** Structural logger (pino-compatible `(obj, msg)` signature). Libraries never print. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** A logger that drops everything; used when the caller passes none. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
