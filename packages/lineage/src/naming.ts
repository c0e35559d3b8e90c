import { isAbsolute } from 'node:path';
import { LineageError } from './errors.js';

/** A dataset as OpenLineage names it: a namespace (where) and a name (what, inside it). */
export interface DatasetName {
  namespace: string;
  name: string;
}

/** Where a PostgreSQL database is, without credentials. */
export interface PostgresLocation {
  host: string;
  port: number;
  database: string;
}

const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

/**
 * The dataset of a location (a lake prefix, a file, an `http(s)` or `s3` URL), per the OpenLineage
 * naming spec: `s3://bucket` + key, `file` + absolute path, `https://host[:port]` + path.
 * Credentials, query strings and fragments are dropped (they can hold tokens).
 *
 * @example
 * locationDataset('s3://lake/raw/orders'); // { namespace: 's3://lake', name: 'raw/orders' }
 * locationDataset('/data/orders.csv');    // { namespace: 'file', name: '/data/orders.csv' }
 */
export function locationDataset(location: string): DatasetName {
  if (isAbsolute(location)) return { namespace: 'file', name: location };
  let url: URL;
  try {
    url = new URL(location);
  } catch (cause) {
    throw new LineageError('BAD_CONFIG', `not an absolute path or URL: ${JSON.stringify(location)}`, {
      cause,
    });
  }
  switch (url.protocol) {
    case 'file:':
      return { namespace: 'file', name: decodeURIComponent(url.pathname) };
    case 's3:':
    case 'gs:':
      return {
        namespace: `${url.protocol}//${url.host}`,
        name: trimSlashes(decodeURIComponent(url.pathname)) || '/',
      };
    default:
      return { namespace: `${url.protocol}//${url.host}`, name: decodeURIComponent(url.pathname) || '/' };
  }
}

/**
 * The lake dataset of a source: `<lake-url>/<source>` (partitions `dt=…` are runs of it, not datasets).
 *
 * @example
 * lakeDataset('s3://lake/raw', 'orders'); // { namespace: 's3://lake', name: 'raw/orders' }
 */
export function lakeDataset(lakeUrl: string, source: string): DatasetName {
  return locationDataset(`${lakeUrl.replace(/\/+$/, '')}/${source}`);
}

/**
 * Host, port and database of a PostgreSQL URL (credentials ignored; port 5432 and database
 * `postgres` by default, as libpq).
 *
 * @example
 * postgresLocation('postgres://etl:secret@db.internal/shop'); // { host: 'db.internal', port: 5432, database: 'shop' }
 */
export function postgresLocation(connectionString: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch (cause) {
    throw new LineageError('BAD_CONFIG', 'warehouse URL is not a postgres:// URL', { cause });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new LineageError('BAD_CONFIG', `warehouse URL must start with postgres://, not ${url.protocol}//`);
  }
  const database = decodeURIComponent(trimSlashes(url.pathname)) || 'postgres';
  return { host: url.hostname || 'localhost', port: url.port ? Number(url.port) : 5432, database };
}

/**
 * A PostgreSQL table: namespace `postgres://host:port`, name `database.schema.table`.
 *
 * @example
 * postgresDataset({ host: 'db', port: 5432, database: 'shop' }, 'public', 'raw_orders');
 * // { namespace: 'postgres://db:5432', name: 'shop.public.raw_orders' }
 */
export function postgresDataset(location: PostgresLocation, schema: string, table: string): DatasetName {
  return {
    namespace: `postgres://${location.host}:${location.port}`,
    name: `${location.database}.${schema}.${table}`,
  };
}
