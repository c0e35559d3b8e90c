import { z } from 'zod';
import { readPath } from './json-path.js';

export type { ApiPaginate } from './api-types.js';

/** Normalised paginator (what the pure functions work with). */
export type Paginator =
  | { type: 'none' }
  | { type: 'cursor'; cursorPath: string; cursorParam: string }
  | { type: 'next_url'; nextUrlPath: string }
  | { type: 'link_header' }
  | { type: 'offset'; limit: number; offsetParam: string; limitParam: string }
  | { type: 'page'; pageParam: string; startPage: number; pageSize?: number; sizeParam?: string };

const name = z.string().min(1);
const paginateSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('cursor'), cursorPath: name, cursorParam: name }),
  z.strictObject({ type: z.literal('next_url'), nextUrlPath: name }),
  z.strictObject({ type: z.literal('link_header') }),
  z
    .strictObject({
      type: z.literal('offset'),
      limit: z.number().int().positive(),
      offsetParam: name.optional(),
      limitParam: name.optional(),
    })
    .transform((p) => ({
      type: 'offset' as const,
      limit: p.limit,
      offsetParam: p.offsetParam ?? 'offset',
      limitParam: p.limitParam ?? 'limit',
    })),
  z
    .strictObject({
      type: z.literal('page'),
      pageParam: name.optional(),
      startPage: z.number().int().nonnegative().optional(),
      pageSize: z.number().int().positive().optional(),
      sizeParam: name.optional(),
    })
    .transform((p) => {
      const sizeParam = p.sizeParam ?? (p.pageSize !== undefined ? 'page_size' : undefined);
      return {
        type: 'page' as const,
        pageParam: p.pageParam ?? 'page',
        startPage: p.startPage ?? 1,
        ...(p.pageSize !== undefined ? { pageSize: p.pageSize } : {}),
        ...(sizeParam !== undefined ? { sizeParam } : {}),
      };
    }),
]);

/**
 * Validates a paginator config; returns the normalised form or the zod error message.
 *
 * @example
 * parsePaginate({ type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' });
 * // { ok: true, value: { type: 'cursor', cursorPath: 'meta.next', cursorParam: 'after' } }
 */
export function parsePaginate(
  input: unknown,
): { ok: true; value: Paginator } | { ok: false; message: string } {
  const r = paginateSchema.safeParse(input ?? { type: 'none' });
  if (r.success) return { ok: true, value: r.data as Paginator };
  return {
    ok: false,
    message: r.error.issues.map((i) => `${i.path.join('.') || 'paginate'}: ${i.message}`).join('; '),
  };
}

/**
 * Reads a path from a JSON value: JSONPath when it starts with `$` (`$.meta.next`,
 * `$.links[?(@.rel=='next')].href`), else dotted (`data.items`, `meta.0.next`; `''` is the value
 * itself). Returns `undefined` when nothing is selected (see `readPath`).
 *
 * @example
 * getPath({ data: { items: [1] } }, 'data.items'); // [1]
 */
export function getPath(value: unknown, path: string): unknown {
  return readPath(value, path);
}

/** Sets (replaces) query parameters on a URL string. */
export function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Finds the `rel="next"` target of an RFC 8288 (5988) Link header, resolved against `base`. */
export function parseLinkNext(header: string | string[] | undefined, base: string): string | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  const re = /<([^>]*)>\s*((?:;\s*[^;,]+)*)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next')) return new URL(m[1] ?? '', base).toString();
  }
  return undefined;
}

/** The URL of the first page: base URL plus the paginator's starting parameters. */
export function firstPageUrl(baseUrl: string, paginator: Paginator): string {
  switch (paginator.type) {
    case 'offset':
      return withParams(baseUrl, {
        [paginator.offsetParam]: '0',
        [paginator.limitParam]: String(paginator.limit),
      });
    case 'page':
      return withParams(baseUrl, {
        [paginator.pageParam]: String(paginator.startPage),
        ...(paginator.pageSize !== undefined && paginator.sizeParam
          ? { [paginator.sizeParam]: String(paginator.pageSize) }
          : {}),
      });
    default:
      return baseUrl;
  }
}

/** What the paginator sees of a fetched page. */
export interface PageState {
  /** The URL that was requested. */
  url: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** Number of records on the page. */
  records: number;
}

/**
 * The URL of the page after `page`, or `undefined` to stop (no cursor / next link, an empty page,
 * or a short offset/page). Pure: loop detection and max-pages live in the caller.
 *
 * @example
 * nextPage({ type: 'cursor', cursorPath: 'next', cursorParam: 'after' },
 *   { url: 'https://api.test/x', body: { next: 'c2' }, headers: {}, records: 10 }); // 'https://api.test/x?after=c2'
 */
export function nextPage(paginator: Paginator, page: PageState): string | undefined {
  if (page.records === 0) return undefined;
  switch (paginator.type) {
    case 'none':
      return undefined;
    case 'cursor': {
      const cursor = getPath(page.body, paginator.cursorPath);
      if (cursor === undefined || cursor === null || cursor === '' || cursor === false) return undefined;
      if (typeof cursor !== 'string' && typeof cursor !== 'number') return undefined;
      return withParams(page.url, { [paginator.cursorParam]: String(cursor) });
    }
    case 'next_url': {
      const next = getPath(page.body, paginator.nextUrlPath);
      if (typeof next !== 'string' || next === '') return undefined;
      return new URL(next, page.url).toString();
    }
    case 'link_header':
      return parseLinkNext(page.headers.link, page.url);
    case 'offset': {
      if (page.records < paginator.limit) return undefined;
      const current = Number(new URL(page.url).searchParams.get(paginator.offsetParam) ?? '0');
      return withParams(page.url, { [paginator.offsetParam]: String(current + page.records) });
    }
    case 'page': {
      if (paginator.pageSize !== undefined && page.records < paginator.pageSize) return undefined;
      const current = Number(
        new URL(page.url).searchParams.get(paginator.pageParam) ?? String(paginator.startPage),
      );
      return withParams(page.url, { [paginator.pageParam]: String(current + 1) });
    }
  }
}
