import { describe, expect, it } from 'vitest';
import { prepareRequest } from '../src/api-request.js';
import { attemptOfKey } from '../src/attempt-record.js';
import {
  apiSourceSchema,
  apiSourceShape,
  csvLine,
  dailyInterval,
  postgresType,
  QUOTED_EMPTY,
} from '../src/index.js';

const day = dailyInterval('2024-05-01');

describe('apiSourceSchema (the YAML shape of an API source)', () => {
  it('maps snake_case YAML to the camelCase options, every paginator', () => {
    const parse = (paginate: unknown) =>
      apiSourceSchema.parse({ type: 'api', url: 'https://a.test/x', paginate }).paginate;
    expect(parse({ type: 'cursor', cursor_path: 'm.n', cursor_param: 'after' })).toEqual({
      type: 'cursor',
      cursorPath: 'm.n',
      cursorParam: 'after',
    });
    expect(parse({ type: 'next_url', next_url_path: 'links.next' })).toEqual({
      type: 'next_url',
      nextUrlPath: 'links.next',
    });
    expect(parse({ type: 'offset', limit: 5, offset_param: 'skip' })).toEqual({
      type: 'offset',
      limit: 5,
      offsetParam: 'skip',
    });
    expect(parse({ type: 'page', page_size: 10, start_page: 0 })).toEqual({
      type: 'page',
      startPage: 0,
      pageSize: 10,
    });
    expect(parse({ type: 'link_header' })).toEqual({ type: 'link_header' });
  });

  it('maps request, retry, limits and columns; params become strings', () => {
    const o = apiSourceSchema.parse({
      type: 'api',
      url: 'https://a.test/x',
      params: { day: '{{ ds }}', n: 5, full: true },
      auth: { type: 'api_key', name: 'k', value: 'secret' },
      timeout_ms: 1000,
      max_pages: 3,
      on_max_pages: 'stop',
      retry: { attempts: 2, base_delay_ms: 10 },
      format: 'csv',
      columns: { id: 'integer', name: 'text' },
      part_bytes: 1024,
    });
    expect(o).toEqual({
      request: {
        url: 'https://a.test/x',
        params: { day: '{{ ds }}', n: '5', full: 'true' },
        auth: { type: 'api_key', name: 'k', value: 'secret', in: 'header' },
        timeoutMs: 1000,
      },
      maxPages: 3,
      onMaxPages: 'stop',
      retry: { attempts: 2, baseDelayMs: 10 },
      format: 'csv',
      columns: ['id', 'name'],
      columnTypes: { id: 'integer', name: 'text' },
      partBytes: 1024,
    });
  });

  it('maps incremental, nested and oauth2 client credentials to camelCase', () => {
    const o = apiSourceSchema.parse({
      type: 'api',
      url: 'https://a.test/rates',
      auth: {
        type: 'oauth2_client_credentials',
        token_url: 'https://auth.test/token',
        client_id: 'id1',
        client_secret: 's3cr3t',
        scope: 'read',
      },
      nested: { flatten: 2 },
      incremental: {
        cursor_path: '$.updated_at',
        param: 'updated_since',
        initial_value: '2024-01-01T00:00:00Z',
        end_value: '2024-02-01T00:00:00Z',
        end_param: 'updated_before',
        lag: 3600,
        on_cursor_value_missing: 'exclude',
        row_order: 'asc',
        primary_key: 'id',
      },
    });
    expect(o.request.auth).toEqual({
      type: 'oauth2_client_credentials',
      tokenUrl: 'https://auth.test/token',
      clientId: 'id1',
      clientSecret: 's3cr3t',
      scope: 'read',
    });
    expect(o.nested).toEqual({ flatten: 2 });
    expect(o.incremental).toEqual({
      cursorPath: '$.updated_at',
      param: 'updated_since',
      initialValue: '2024-01-01T00:00:00Z',
      endValue: '2024-02-01T00:00:00Z',
      endParam: 'updated_before',
      lag: 3600,
      onCursorValueMissing: 'exclude',
      rowOrder: 'asc',
      primaryKey: ['id'],
    });
    const bad = apiSourceSchema.safeParse({
      type: 'api',
      url: 'https://a.test',
      incremental: { cursor_path: 'u', param: 'p', initial_value: 0, row_order: 'sideways' },
    });
    expect(bad.success).toBe(false);
    expect(
      apiSourceSchema.safeParse({ type: 'api', url: 'https://a.test', nested: { flatten: 0 } }).success,
    ).toBe(false);
  });

  it('refuses unknown keys and camelCase in YAML, and composes with a config’s own keys', () => {
    expect(apiSourceSchema.safeParse({ type: 'api', url: 'https://a.test', maxPages: 3 }).success).toBe(
      false,
    );
    expect(
      apiSourceSchema.safeParse({ type: 'api', url: 'https://a.test', on_max_pages: 'maybe' }).success,
    ).toBe(false);
    const extended = apiSourceShape.extend({ table: apiSourceShape.shape.url.optional() });
    expect(extended.parse({ type: 'api', url: 'https://a.test', table: 't' }).table).toBe('t');
  });
});

describe('prepareRequest', () => {
  it('moves URL credentials and auth into headers or forced query params, renders placeholders', () => {
    const r = prepareRequest(
      'users',
      {
        url: 'https://u:p%40ss@a.test/x?since={{ ds }}',
        params: { day: '{{ ds_nodash }}' },
        auth: { type: 'api_key', name: 'key', value: 'k1', in: 'query' },
      },
      day,
      { type: 'page', pageParam: 'page', startPage: 1 },
    );
    expect(r.startUrl).toBe('https://a.test/x?since=2024-05-01&day=20240501&page=1');
    expect(r.headers.authorization).toBe(`Basic ${Buffer.from('u:p@ss').toString('base64')}`);
    expect(r.forcedParams).toEqual({ key: 'k1' });
    expect(r.secretParams).toEqual(['key']);
    expect(r.timeoutMs).toBe(30_000);
  });

  it('refuses a non-http URL and an invalid request, without echoing the URL', () => {
    expect(() => prepareRequest('s', { url: 'ftp://a.test/x' }, day, { type: 'none' })).toThrow(
      /must be http\(s\)/,
    );
    expect(() => prepareRequest('s', { url: 'not a url with token=abc' }, day, { type: 'none' })).toThrow(
      /^s: request.url is not an absolute URL$/,
    );
    expect(() =>
      prepareRequest('s', { url: 'https://a.test', timeout_ms: 5 } as never, day, { type: 'none' }),
    ).toThrow(/INVALID|request/);
  });
});

describe('lake file names and formats', () => {
  it('attemptOfKey finds the attempt of parts, rejects, records and temp files only', () => {
    expect(attemptOfKey('o/dt=2024-01-01/part-00003-3f9a1c2e.csv.gz')).toBe('3f9a1c2e');
    expect(attemptOfKey('o/dt=2024-01-01/_rejects/part-00000-3f9a1c2e.csv')).toBe('3f9a1c2e');
    expect(attemptOfKey('o/dt=2024-01-01/_attempts/3f9a1c2e.json')).toBe('3f9a1c2e');
    expect(attemptOfKey('o/dt=2024-01-01/.part-00000-3f9a1c2e.csv.tmp-abc')).toBe('3f9a1c2e');
    for (const k of [
      'o/dt=2024-01-01/_manifest.json',
      'o/dt=2024-01-01/_SUCCESS',
      'o/dt=2024-01-01/_lock',
      'o/x.csv',
    ]) {
      expect(attemptOfKey(k)).toBeUndefined();
    }
  });

  it('csvLine keeps a quoted empty field quoted and quotes a lone \\. (COPY’s end-of-data marker)', () => {
    expect(csvLine(['1', QUOTED_EMPTY, ''])).toBe('1,"",\n');
    expect(csvLine([QUOTED_EMPTY])).toBe('""\n');
    expect(csvLine(['\\.'])).toBe('"\\."\n');
    expect(csvLine(['\\.', 'x'])).toBe('\\.,x\n');
  });

  it('postgresType spells double as PostgreSQL does and leaves the others', () => {
    expect(postgresType('double')).toBe('double precision');
    expect(postgresType('date')).toBe('date');
    expect(postgresType('numeric(10,2)')).toBe('numeric(10,2)');
  });
});
