/** What replaces a secret in logs, stored arguments and error messages. */
export const REDACTED = '***';

const SECRET_QUERY_KEYS =
  '(?:access_token|refresh_token|client_secret|token|api_key|apikey|api-key|key|password|passwd|pwd|secret|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token)';

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // scheme://user:password@host → scheme://user:***@host
  [/([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@'"]*:)([^\s@/'"]+)(@)/gi, `$1${REDACTED}$3`],
  // ?token=…&key=… (query strings, form bodies, "key=value" text)
  [new RegExp(`((?:^|[?&;\\s"'])${SECRET_QUERY_KEYS}=)([^&\\s"';#]+)`, 'gi'), `$1${REDACTED}`],
  // Authorization: Bearer xxx / Basic xxx
  [/(\b(?:Bearer|Basic|Token)\s+)[A-Za-z0-9\-._~+/]+=*/g, `$1${REDACTED}`],
  // AWS secret access keys: 40 chars of base64 alphabet after a secret-ish label
  [
    /((?:aws_?secret_?access_?key|secretAccessKey|secret_access_key)["']?\s*[:=]\s*["']?)[A-Za-z0-9/+=]{16,}/gi,
    `$1${REDACTED}`,
  ],
  // AWS access key ids are not secret on their own, but temporary ones come in pairs with tokens.
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
];

/** Secrets shorter than this are not scrubbed by value: "1" or "a" would shred every line. */
const MIN_SECRET_LENGTH = 4;

/**
 * Scrubs secrets out of free text: URL passwords, `token=`/`key=`/`password=`/`secret=` values,
 * Bearer/Basic credentials, AWS secret keys, and every value in `secrets` (also in its JSON-escaped
 * and URL-encoded forms, since that is how it appears inside log lines and URLs).
 *
 * @example
 * redactSecrets('postgres://app:hunter2@db/x?sslmode=require') // 'postgres://app:***@db/x?sslmode=require'
 */
export function redactSecrets(text: string, secrets: Iterable<string> = []): string {
  let out = text;
  for (const secret of secretForms(secrets)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

function* secretForms(secrets: Iterable<string>): Generator<string> {
  const forms = new Set<string>();
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    forms.add(s);
    forms.add(JSON.stringify(s).slice(1, -1));
    forms.add(encodeURIComponent(s));
  }
  // Longest first, so a secret that contains another is replaced whole.
  yield* [...forms].sort((a, b) => b.length - a.length);
}

/** A set of secret values known at runtime (e.g. config values that came from `${ENV}`). */
export interface Redactor {
  /** Registers a value that must never be printed or stored. */
  add(secret: string): void;
  /** {@link redactSecrets} with every registered value. */
  redact(text: string): string;
  /** Deep-copies a JSON-like value, redacting every string in it. */
  redactValue<T>(value: T): T;
  readonly size: number;
}

/**
 * Creates a {@link Redactor}. One per CLI invocation; pass it to the logger and the run log.
 *
 * @example
 * const redactor = createRedactor([process.env.RATES_TOKEN ?? '']);
 * redactor.redact(`token ${process.env.RATES_TOKEN}`) // 'token ***'
 */
export function createRedactor(initial: Iterable<string> = []): Redactor {
  const secrets = new Set<string>();
  const add = (s: string) => {
    if (typeof s === 'string' && s.length >= MIN_SECRET_LENGTH) secrets.add(s);
  };
  for (const s of initial) add(s);
  const redact = (text: string) => redactSecrets(text, secrets);
  const redactValue = <T>(value: T): T => deepMap(value, redact) as T;
  return {
    add,
    redact,
    redactValue,
    get size() {
      return secrets.size;
    },
  };
}

function deepMap(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => deepMap(v, fn));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepMap(v, fn)]));
  }
  return value;
}

const SECRET_FLAG = /^--?(?:[a-z0-9-]*(?:password|passwd|token|secret|api-?key|credentials?)[a-z0-9-]*)$/i;

/**
 * Redacts command-line arguments before they are logged or stored: values of secret-looking
 * flags (`--password x`, `--token=x`), URL passwords and known secret values.
 *
 * @example
 * redactArgs(['run', '--token', 'abc123', '--date', '2026-05-01']) // ['run', '--token', '***', '--date', '2026-05-01']
 */
export function redactArgs(argv: readonly string[], secrets: Iterable<string> = []): string[] {
  const known = [...secrets];
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    if (arg.startsWith('-') && eq > 0 && SECRET_FLAG.test(arg.slice(0, eq))) {
      out.push(`${arg.slice(0, eq)}=${REDACTED}`);
      continue;
    }
    out.push(redactSecrets(arg, known));
    if (SECRET_FLAG.test(arg) && i + 1 < argv.length) {
      out.push(REDACTED);
      i++;
    }
  }
  return out;
}
