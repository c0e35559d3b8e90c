import { BUILTIN_ALIASES, BUILTIN_TESTS, type TestDefinition } from './builtin-tests.js';
import { QualityError } from './errors.js';
import type { GenericTestFunction } from './types.js';

export type { TestDefinition } from './builtin-tests.js';

/** Options of a custom generic test. */
export interface DefineTestOptions {
  /** Columns of its failing rows that identify them (kept first in samples). */
  keyColumns?: string[];
}

/** The generic tests available to `compileGenericTest`: built-ins plus custom ones. */
export interface TestRegistry {
  /**
   * Adds a custom generic test (e.g. rendered from a project's `{% test %}` block, or written in
   * TypeScript). A built-in may be overridden once, like a project macro `test_not_null`; defining the
   * same custom name twice throws `DUPLICATE_TEST`.
   */
  define(name: string, fn: GenericTestFunction, options?: DefineTestOptions): void;
  /** True when `name` (or its package alias such as `dbt_utils.expression_is_true`) can be compiled. */
  has(name: string): boolean;
  /** The definition for `name`, following package aliases; undefined when unknown. */
  lookup(name: string): TestDefinition | undefined;
  /** Every name defined (built-ins and custom), sorted. */
  names(): string[];
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/** Finds a definition in `definitions`, falling back to the built-in a package alias points at. */
export function _lookup(
  definitions: ReadonlyMap<string, TestDefinition>,
  name: string,
): TestDefinition | undefined {
  const direct = definitions.get(name);
  if (direct !== undefined) return direct;
  const target = BUILTIN_ALIASES.get(name);
  return target === undefined ? undefined : definitions.get(target);
}

/**
 * Creates a registry holding the built-in tests; add project tests with `define()`.
 *
 * @example
 * const registry = createTestRegistry();
 * registry.define('is_even', ({ relation, column }) => `select * from ${relation} where ${column} % 2 <> 0`);
 * compileGenericTest({ test: 'is_even', model: 'orders', column: 'order_id', args: {} }, ctx, registry);
 */
export function createTestRegistry(): TestRegistry {
  const definitions = new Map<string, TestDefinition>(BUILTIN_TESTS);
  const custom = new Set<string>();
  return {
    define(name, fn, options = {}) {
      if (!NAME_PATTERN.test(name)) {
        throw new QualityError('INVALID_ARGUMENT', `test name ${JSON.stringify(name)} is not an identifier`);
      }
      if (typeof fn !== 'function')
        throw new QualityError('INVALID_ARGUMENT', `test ${name} needs a function`);
      if (custom.has(name)) {
        throw new QualityError('DUPLICATE_TEST', `generic test ${name} is already defined`, { test: name });
      }
      custom.add(name);
      const keyColumns = options.keyColumns === undefined ? undefined : [...options.keyColumns];
      definitions.set(
        name,
        keyColumns === undefined ? { render: fn } : { render: fn, keyColumns: () => keyColumns },
      );
    },
    has(name) {
      return _lookup(definitions, name) !== undefined;
    },
    lookup(name) {
      return _lookup(definitions, name);
    },
    names() {
      return [...definitions.keys()].sort();
    },
  };
}
