import { z } from 'zod';
import { IDENTIFIER_MESSAGE, IDENTIFIER_RE } from './arg-values.js';
import { selectorList } from './args.js';
import { isDay } from './interval.js';

// zod pieces of the commands' argument schemas: flags arrive as node:util parses them (strings,
// booleans, string arrays for repeatable flags) and leave typed.

/** `--project`, `--log-level` (the lifecycle validates the level itself). */
export const projectArgFields = {
  project: z.string().min(1, 'expected a directory').optional(),
  'log-level': z.string().optional(),
};

export const selectorsArg = z.array(z.string()).optional().transform(selectorList);

export const identifierArg = z.string().regex(IDENTIFIER_RE, IDENTIFIER_MESSAGE);

export const dateArg = z.string().refine(isDay, 'expected a date YYYY-MM-DD');
