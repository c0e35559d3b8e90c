import { createRequire } from 'node:module';
import { pino } from 'pino';
import { createRedactor, REDACTED, type Redactor } from './redact.js';

/** The structural logger every `@dataflow/*` library accepts (pino's `(obj, msg)` signature). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A sink with a synchronous `write` (process.stderr, a file stream, a test collector). */
export interface LogDestination {
  write(chunk: string): unknown;
}

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Bound on every line as `run_id`. */
  runId: string;
  /** Human-readable lines (pino-pretty) instead of JSON lines. Default: JSON. */
  pretty?: boolean;
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /** Default: process.stderr (stdout is reserved for command output and the Airflow summary line). */
  destination?: LogDestination;
  /** Scrubs registered secret values and secret patterns from every line. */
  redactor?: Redactor;
  /** Extra fields bound on every line (e.g. `command`). */
  bindings?: Record<string, unknown>;
}

/** Keys whose values are always replaced, wherever they appear (two levels deep). */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'token',
  'secret',
  'apiKey',
  'api_key',
  'authorization',
  'Authorization',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'connectionString',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.api_key',
  '*.authorization',
  '*.Authorization',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.credentials',
  '*.connectionString',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
];

/** A pino logger, narrowed to what callers need, plus `flush()`. */
export interface RunLogger extends Logger {
  child(bindings: Record<string, unknown>): RunLogger;
  /** Writes are synchronous; resolves once everything written so far has reached the destination. */
  flush(): Promise<void>;
  readonly level: string;
}

/**
 * Creates the run's logger: JSON lines (what Airflow captures) or pretty lines on a TTY, `run_id`
 * on every line, secrets redacted by key (pino `redact`) AND by value/pattern on the final text.
 *
 * @example
 * const log = createLogger({ runId: 'r1', pretty: process.stderr.isTTY });
 * log.info({ source: 'orders', rows: 10 }, 'ingested');
 */
export function createLogger(options: CreateLoggerOptions): RunLogger {
  const redactor = options.redactor ?? createRedactor();
  const destination = options.destination ?? process.stderr;
  const prettify = options.pretty ? loadPrettyFactory()(PRETTY_OPTIONS) : undefined;
  const sink = {
    write(line: string) {
      const clean = redactor.redact(line);
      destination.write(prettify ? prettify(clean) : clean);
    },
  };
  const base = pino(
    {
      level: options.level ?? 'info',
      base: { run_id: options.runId, ...options.bindings },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    sink,
  );
  return wrap(base, destination);
}

const PRETTY_OPTIONS = {
  colorize: false,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname',
  singleLine: true,
};

// pino-pretty (and its dependencies) costs start-up time every process would pay; only a caller
// asking for pretty lines loads it. It is CommonJS, so `require` keeps createLogger synchronous.
function loadPrettyFactory(): typeof import('pino-pretty').prettyFactory {
  const require = createRequire(import.meta.url);
  return (require('pino-pretty') as typeof import('pino-pretty')).prettyFactory;
}

function wrap(logger: pino.Logger, destination: LogDestination): RunLogger {
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => logger.info(obj, msg),
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    child: (bindings) => wrap(logger.child(bindings), destination),
    get level() {
      return logger.level;
    },
    flush: () => flushDestination(destination),
  };
}

async function flushDestination(destination: LogDestination): Promise<void> {
  const stream = destination as Partial<NodeJS.WritableStream> & { writableNeedDrain?: boolean };
  if (typeof stream.write === 'function' && stream.writableNeedDrain && typeof stream.once === 'function') {
    await new Promise<void>((resolve) => stream.once?.('drain', () => resolve()));
  }
  // An empty write calls back once every earlier chunk has been handed to the OS.
  if (typeof (destination as NodeJS.WritableStream).end === 'function') {
    await new Promise<void>((resolve) => {
      const ok = (destination as NodeJS.WritableStream).write('', () => resolve());
      if (ok === undefined) resolve();
    });
  }
}
