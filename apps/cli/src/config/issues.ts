import { z } from 'zod';
import { didYouMean } from '../did-you-mean.js';
import { configSchema } from './schema.js';

/** Known keys of the object schema at a key path (for typo hints). */
function knownKeysAt(path: readonly PropertyKey[], data: unknown): string[] {
  let schema: z.ZodType = configSchema;
  let value: unknown = data;
  for (const seg of path) {
    schema = unwrap(schema);
    value = (value as Record<string, unknown> | undefined)?.[String(seg)];
    if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[String(seg)];
      if (!next) return [];
      schema = next;
    } else if (schema instanceof z.ZodRecord) {
      schema = schema.valueType as z.ZodType;
    } else return [];
  }
  schema = unwrap(schema);
  if (schema instanceof z.ZodDiscriminatedUnion) {
    const type = (value as { type?: unknown } | undefined)?.type;
    for (const option of schema.options as z.ZodType[]) {
      const shape = (option as z.ZodObject).shape as Record<string, z.ZodType>;
      const lit = shape.type;
      if (lit instanceof z.ZodLiteral && lit.values.has(type as never)) return Object.keys(shape);
    }
    return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 5; i++) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodNullable) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else break;
  }
  return s;
}

/**
 * One line per problem: `file: key.path: what was expected`, with a "did you mean" for a typo'd key.
 *
 * @example
 * formatConfigIssue('dataflow.yml', issue, data); // "dataflow.yml: sources.orders.primary_kye: unknown key (did you mean 'primary_key'?)"
 */
export function formatConfigIssue(file: string, issue: z.core.$ZodIssue, data: unknown): string {
  const path = issue.path.map(String);
  const where = (p: string[]) => (p.length ? p.join('.') : '(root)');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const hint = didYouMean(key, knownKeysAt(issue.path, data));
      return `${file}: ${where([...path, key])}: unknown key${hint ? ` (did you mean '${hint}'?)` : ''}`;
    }
    case 'invalid_value':
      return `${file}: ${where(path)}: expected one of ${issue.values.map(String).join('|')}`;
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc !== undefined) {
        const full = path.at(-1) === disc ? path : [...path, disc];
        const options = discriminatorOptions(full.slice(0, -1));
        return `${file}: ${where(full)}: expected one of ${options.join('|')}`;
      }
      return `${file}: ${where(path)}: ${issue.message}`;
    }
    case 'invalid_type': {
      const got = getAt(data, path);
      if (got === undefined) return `${file}: ${where(path)}: required (expected ${issue.expected})`;
      return `${file}: ${where(path)}: expected ${issue.expected}, got ${describe(got)}`;
    }
    case 'invalid_key':
      return `${file}: ${where(path)}: invalid key: ${issue.issues[0]?.message ?? issue.message}`;
    default:
      return `${file}: ${where(path)}: ${issue.message}`;
  }
}

function discriminatorOptions(path: string[]): string[] {
  // Sources, auth and paginate are the discriminated unions; name their types.
  const last = path.at(-1);
  if (path[0] === 'sources' && path.length === 2) return ['csv', 'api'];
  if (last === 'auth') return ['bearer', 'basic', 'api_key'];
  if (last === 'paginate') return ['none', 'cursor', 'next_url', 'link_header', 'offset', 'page'];
  return [];
}

function getAt(data: unknown, path: string[]): unknown {
  let v = data;
  for (const p of path) v = (v as Record<string, unknown> | undefined)?.[p];
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}
