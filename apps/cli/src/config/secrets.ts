import type { ProjectConfig } from './schema.js';

/**
 * Values of a validated config that are credentials even when written literally: URL passwords,
 * the lake's secret key, the OpenLineage API key, API auth and credential-like request headers.
 *
 * @example
 * configSecrets(config); // ['hunter2', …]
 */
export function configSecrets(config: ProjectConfig): string[] {
  const secrets: string[] = [];
  for (const url of [config.warehouse.url, config.metadata.url, config.lake.url]) {
    const password = url ? passwordOf(url) : undefined;
    if (password) secrets.push(password);
  }
  if (config.lake.secret_access_key) secrets.push(config.lake.secret_access_key);
  if (config.lineage?.api_key) secrets.push(config.lineage.api_key);
  const lineageUrlPassword = config.lineage?.url ? passwordOf(config.lineage.url) : undefined;
  if (lineageUrlPassword) secrets.push(lineageUrlPassword);
  for (const source of Object.values(config.sources)) {
    for (const [name, value] of Object.entries(source.headers ?? {})) {
      if (SECRET_HEADER.test(name)) secrets.push(value.replace(/^(Bearer|Basic|Token)\s+/i, ''), value);
    }
    if (source.type !== 'api' || !source.auth) continue;
    const a = source.auth;
    secrets.push(
      a.type === 'bearer'
        ? a.token
        : a.type === 'basic'
          ? a.password
          : a.type === 'oauth2_client_credentials'
            ? a.client_secret
            : a.value,
    );
  }
  return secrets;
}

/** Request headers whose values are credentials even when written literally in the file. */
const SECRET_HEADER = /authorization|token|secret|api[-_]?key|password|cookie/i;

function passwordOf(url: string): string | undefined {
  try {
    const p = new URL(url).password;
    return p ? decodeURIComponent(p) : undefined;
  } catch {
    // Not a URL (e.g. a socket path): there is no password in it to register.
    return undefined;
  }
}
