// The one replacement token of dataflow (`REDACTED` in @dataflow/runlog): ingest imports no package.
const REDACTED = '***';

const SECRET_PARAM_RE = /key|token|secret|password|passwd|signature|sig|auth|credential/i;

/**
 * A URL safe to print: credentials removed and query values of secret-looking parameters
 * (key, token, secret, password, signature, ...) replaced by `***`. Non-URLs pass through.
 *
 * @example
 * redactUrl('https://u:p@api.test/x?api_key=abc&page=2'); // 'https://api.test/x?api_key=***&page=2'
 */
export function redactUrl(value: string, extraSecretParams: readonly string[] = []): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  url.username = '';
  url.password = '';
  const extra = new Set(extraSecretParams.map((p) => p.toLowerCase()));
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (SECRET_PARAM_RE.test(name) || extra.has(name.toLowerCase())) url.searchParams.set(name, REDACTED);
  }
  return url.toString();
}
