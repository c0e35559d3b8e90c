import { describe, expect, it } from 'vitest';
import { getPath, nextPage } from '../src/index.js';
import {
  firstPageUrl,
  type PageState,
  type Paginator,
  parseLinkNext,
  parsePaginate,
} from '../src/pagination.js';

const page = (over: Partial<PageState>): PageState => ({
  url: 'https://api.test/items',
  body: {},
  headers: {},
  records: 10,
  ...over,
});
const parsed = (input: unknown): Paginator => {
  const r = parsePaginate(input);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('getPath', () => {
  it('walks dotted paths, including array indexes; "" is the value', () => {
    const body = { a: { b: [{ c: 1 }] } };
    expect(getPath(body, 'a.b.0.c')).toBe(1);
    expect(getPath(body, '')).toBe(body);
    expect(getPath(body, 'a.x.c')).toBeUndefined();
    expect(getPath(null, 'a')).toBeUndefined();
  });
});

describe('parsePaginate', () => {
  it('accepts camelCase and fills defaults', () => {
    expect(parsed({ type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' })).toEqual({
      type: 'cursor',
      cursorPath: 'meta.next',
      cursorParam: 'after',
    });
    expect(parsed({ type: 'offset', limit: 50 })).toEqual({
      type: 'offset',
      limit: 50,
      offsetParam: 'offset',
      limitParam: 'limit',
    });
    expect(parsed({ type: 'page', pageSize: 20 })).toEqual({
      type: 'page',
      pageParam: 'page',
      startPage: 1,
      pageSize: 20,
      sizeParam: 'page_size',
    });
    expect(parsed(undefined)).toEqual({ type: 'none' });
  });
  it('reports what is missing', () => {
    const r = parsePaginate({ type: 'cursor', cursorPath: 'x' });
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain('cursorParam');
    // snake_case is the YAML schema's (apiSourceSchema), not the library's.
    expect(parsePaginate({ type: 'cursor', cursor_path: 'x', cursor_param: 'y' }).ok).toBe(false);
    expect(parsePaginate({ type: 'offset' }).ok).toBe(false);
    expect(parsePaginate({ type: 'bogus' }).ok).toBe(false);
  });
});

describe('firstPageUrl', () => {
  it('adds the starting offset/limit or page parameters', () => {
    expect(firstPageUrl('https://api.test/x?q=1', parsed({ type: 'offset', limit: 5 }))).toBe(
      'https://api.test/x?q=1&offset=0&limit=5',
    );
    expect(firstPageUrl('https://api.test/x', parsed({ type: 'page', startPage: 0 }))).toBe(
      'https://api.test/x?page=0',
    );
    expect(firstPageUrl('https://api.test/x', parsed({ type: 'link_header' }))).toBe('https://api.test/x');
  });
});

describe('nextPage', () => {
  it('cursor: sets the cursor param from the body; stops on null/empty cursor or empty page', () => {
    const p = parsed({ type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' });
    expect(nextPage(p, page({ body: { meta: { next: 'abc' } } }))).toBe('https://api.test/items?after=abc');
    expect(nextPage(p, page({ url: 'https://api.test/items?after=abc', body: { meta: { next: 7 } } }))).toBe(
      'https://api.test/items?after=7',
    );
    expect(nextPage(p, page({ body: { meta: { next: null } } }))).toBeUndefined();
    expect(nextPage(p, page({ body: { meta: { next: '' } } }))).toBeUndefined();
    expect(nextPage(p, page({ body: { meta: { next: 'abc' } }, records: 0 }))).toBeUndefined();
  });
  it('next_url: resolves relative URLs; stops when absent', () => {
    const p = parsed({ type: 'next_url', nextUrlPath: 'next' });
    expect(nextPage(p, page({ body: { next: '/items?p=2' } }))).toBe('https://api.test/items?p=2');
    expect(nextPage(p, page({ body: { next: 'https://other.test/x' } }))).toBe('https://other.test/x');
    expect(nextPage(p, page({ body: {} }))).toBeUndefined();
  });
  it('cursor and next_url paths may be JSONPath (dotted paths keep working)', () => {
    const cursor = parsed({ type: 'cursor', cursorPath: '$.meta.next', cursorParam: 'after' });
    expect(nextPage(cursor, page({ body: { meta: { next: 'c2' } } }))).toBe(
      'https://api.test/items?after=c2',
    );
    const links = {
      links: [
        { rel: 'self', href: '/items?p=1' },
        { rel: 'next', href: '/items?p=2' },
      ],
    };
    const next = parsed({ type: 'next_url', nextUrlPath: "$.links[?(@.rel === 'next')].href" });
    expect(nextPage(next, page({ body: links }))).toBe('https://api.test/items?p=2');
    expect(nextPage(next, page({ body: { links: [] } }))).toBeUndefined();
  });
  it('link_header: follows rel="next" among several links', () => {
    const p = parsed({ type: 'link_header' });
    const link = '<https://api.test/items?p=1>; rel="first", <https://api.test/items?p=3>; rel="next"';
    expect(nextPage(p, page({ headers: { link } }))).toBe('https://api.test/items?p=3');
    expect(
      nextPage(p, page({ headers: { link: '<https://api.test/items?p=1>; rel="prev"' } })),
    ).toBeUndefined();
    expect(parseLinkNext('</x?p=2>; rel=next', 'https://api.test/items')).toBe('https://api.test/x?p=2');
  });
  it('offset: advances by the records received; a short page is the last', () => {
    const p = parsed({ type: 'offset', limit: 10 });
    expect(nextPage(p, page({ url: 'https://api.test/i?offset=20&limit=10', records: 10 }))).toBe(
      'https://api.test/i?offset=30&limit=10',
    );
    expect(nextPage(p, page({ url: 'https://api.test/i?offset=20&limit=10', records: 4 }))).toBeUndefined();
  });
  it('page: increments; with a page size a short page is the last', () => {
    const p = parsed({ type: 'page', pageSize: 10 });
    expect(nextPage(p, page({ url: 'https://api.test/i?page=2&page_size=10' }))).toBe(
      'https://api.test/i?page=3&page_size=10',
    );
    expect(nextPage(p, page({ url: 'https://api.test/i?page=2&page_size=10', records: 9 }))).toBeUndefined();
  });
  it('none: a single page', () => {
    expect(nextPage({ type: 'none' }, page({}))).toBeUndefined();
  });
});
