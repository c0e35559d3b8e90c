// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests feed literal ${ENV} references to the config parser
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse.js';
import { didYouMean } from '../src/did-you-mean.js';
import { CliError } from '../src/errors.js';

const base = {
  name: 'shop',
  sources: { orders: { type: 'csv', location: 'data/orders/{{ ds }}.csv', primary_key: ['order_id'] } },
};

function configError(raw: unknown, env: Record<string, string> = {}): CliError {
  try {
    parseConfig(raw, env);
  } catch (e) {
    if (e instanceof CliError) return e;
    throw e;
  }
  throw new Error('expected a config error');
}

describe('parseConfig', () => {
  it('applies defaults (embedded warehouse, local lake, replace_partition)', () => {
    const { config } = parseConfig(base, {});
    expect(config.warehouse).toEqual({ schema: 'public', pool_size: 8 });
    expect(config.metadata.schema).toBe('dataflow');
    expect(config.lake.url).toBeUndefined();
    expect(config.sources.orders).toMatchObject({ type: 'csv', disposition: 'replace_partition' });
  });

  it('names file and key path for a bad enum value, in one line', () => {
    const err = configError({
      ...base,
      sources: { orders: { ...base.sources.orders, disposition: 'upsert' } },
    });
    expect(err.message).toBe(
      'dataflow.yml: sources.orders.disposition: expected one of append|replace|replace_partition|merge',
    );
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toContain('\n');
  });

  it('reports an unknown key with a did-you-mean hint', () => {
    const err = configError({ ...base, sources: { orders: { ...base.sources.orders, primary_kye: ['x'] } } });
    expect(err.message).toBe(
      "dataflow.yml: sources.orders.primary_kye: unknown key (did you mean 'primary_key'?)",
    );
    const top = configError({ ...base, warehous: { url: 'x' } });
    expect(top.message).toBe("dataflow.yml: warehous: unknown key (did you mean 'warehouse'?)");
  });

  it('reports a bad source type with the allowed types', () => {
    const err = configError({ name: 'x', sources: { o: { type: 'parquet', location: 'x' } } });
    expect(err.message).toBe('dataflow.yml: sources.o.type: expected one of csv|api');
  });

  it('reports a missing required key', () => {
    const err = configError({ name: 'x', sources: { o: { type: 'csv' } } });
    expect(err.message).toBe('dataflow.yml: sources.o.location: required (expected string)');
  });

  it('interpolates ${ENV} and ${ENV:-default}, and registers substituted values as secrets', () => {
    const raw = {
      name: 'x',
      warehouse: { url: '${DATABASE_URL}', schema: '${SCHEMA:-analytics}' },
      sources: {
        rates: { type: 'api', url: 'http://h/v1', auth: { type: 'bearer', token: '${RATES_TOKEN}' } },
      },
    };
    const { config, secrets } = parseConfig(raw, {
      DATABASE_URL: 'postgres://app:pw-1234@db/x',
      RATES_TOKEN: 'tok-abcdef',
    });
    expect(config.warehouse.url).toBe('postgres://app:pw-1234@db/x');
    expect(config.warehouse.schema).toBe('analytics');
    expect(secrets).toEqual(expect.arrayContaining(['postgres://app:pw-1234@db/x', 'tok-abcdef', 'pw-1234']));
  });

  it('an unset ${VAR} is an error naming the variable and the key (a typo must not fall back to the embedded server)', () => {
    const typo = configError(
      { name: 'x', warehouse: { url: '${DATABSE_URL}' } },
      { DATABASE_URL: 'postgres://h/d' },
    );
    expect(typo.message).toBe(
      'dataflow.yml: warehouse.url: environment variable DATABSE_URL is not set (write ${DATABSE_URL:-} if it is optional)',
    );
    expect(typo.exitCode).toBe(2);
    const err = configError({
      name: 'x',
      sources: { r: { type: 'api', url: 'http://h', auth: { type: 'bearer', token: '${RATES_TOKEN}' } } },
    });
    expect(err.message).toBe(
      'dataflow.yml: sources.r.auth.token: environment variable RATES_TOKEN is not set (write ${RATES_TOKEN:-} if it is optional)',
    );
    const inline = configError({ name: 'x', warehouse: { url: 'postgres://u:${PW}@h/d' } });
    expect(inline.message).toBe(
      'dataflow.yml: warehouse.url: environment variable PW is not set (write ${PW:-} if it is optional)',
    );
  });

  it('${VAR:-} is the explicit "absent": unset or empty, the key takes its default', () => {
    expect(
      parseConfig({ name: 'x', warehouse: { url: '${DATABASE_URL:-}' } }, {}).config.warehouse.url,
    ).toBeUndefined();
    expect(
      parseConfig({ name: 'x', warehouse: { url: '${DATABASE_URL:-}' } }, { DATABASE_URL: '' }).config
        .warehouse.url,
    ).toBeUndefined();
    const set = parseConfig(
      { name: 'x', warehouse: { url: '${DATABASE_URL:-}' } },
      { DATABASE_URL: 'postgres://h/d' },
    );
    expect(set.config.warehouse.url).toBe('postgres://h/d');
    expect(set.secrets).toContain('postgres://h/d');
  });

  it("two sources mapped to one table are rejected, naming both (they would delete each other's day)", () => {
    const err = configError({
      name: 'x',
      sources: {
        a: { type: 'csv', location: 'a.csv' },
        b: { type: 'csv', location: 'b.csv', table: 'raw_a' },
      },
    });
    expect(err.message).toBe(
      "dataflow.yml: sources.b.table: raw_a is also the table of source a; sources a and b would replace each other's rows (give each source its own table)",
    );
    expect(err.exitCode).toBe(2);
  });

  it('merge without primary_key and an unknown column type are config errors naming the key', () => {
    const merge = configError({
      name: 'x',
      sources: { o: { type: 'csv', location: 'o.csv', disposition: 'merge' } },
    });
    expect(merge.message).toBe(
      'dataflow.yml: sources.o.primary_key: required with disposition merge (the key rows are merged on)',
    );
    const type = configError({
      name: 'x',
      sources: { o: { type: 'csv', location: 'o.csv', columns: { id: 'int4x' } } },
    });
    expect(type.message).toMatch(
      /^dataflow\.yml: sources\.o\.columns\.id: expected one of text\|varchar\|integer\|/,
    );
    expect(type.message).toContain('|double|');
  });

  it('env overrides win over the file', () => {
    const { config, secrets } = parseConfig(
      { ...base, warehouse: { url: 'postgres://a@h/d' }, lake: { url: 's3://a/b' } },
      {
        DATAFLOW_DATABASE_URL: 'postgres://o:secretpw@h2/d',
        DATAFLOW_LAKE_URL: 's3://lake/raw',
        DATAFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000',
      },
    );
    expect(config.warehouse.url).toBe('postgres://o:secretpw@h2/d');
    expect(config.lake).toMatchObject({ url: 's3://lake/raw', endpoint: 'http://127.0.0.1:9000' });
    expect(secrets).toContain('secretpw');
  });

  it('registers literal credential headers as secrets', () => {
    const { secrets } = parseConfig(
      {
        name: 'x',
        sources: {
          f: {
            type: 'csv',
            location: 'https://h/f.csv',
            headers: { Authorization: 'Bearer lit-abc123', Accept: 'text/csv' },
          },
        },
      },
      {},
    );
    expect(secrets).toEqual(expect.arrayContaining(['lit-abc123', 'Bearer lit-abc123']));
    expect(secrets).not.toContain('text/csv');
  });

  it('accepts dbt-style keys read by modeling', () => {
    const { config } = parseConfig(
      { ...base, 'model-paths': ['models'], vars: { a: 1 }, models: { shop: {} } },
      {},
    );
    expect(config['model-paths']).toEqual(['models']);
  });
});

describe('didYouMean', () => {
  it('finds close names and ignores far ones', () => {
    expect(didYouMean('rnu', ['run', 'runs', 'init'])).toBe('run');
    expect(didYouMean('zzzzzz', ['run', 'init'])).toBeUndefined();
  });
});
