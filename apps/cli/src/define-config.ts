import type { ModelDefinition, ProjectDefinition } from '@dataflow/modeling';
import type { z } from 'zod';
import type { configSchema } from './config/schema.js';
import type { DbtOnlyKey } from './ts-config.js';

// biome-ignore lint/suspicious/noExplicitAny: a model's refs are checked per model; any list of models is accepted
type AnyModelDefinition = ModelDefinition<string, any>;

/**
 * The shape of `dataflow.config.ts`: the keys of `dataflow.yml` as written (defaults optional),
 * without the dbt project-file keys, plus the project's TypeScript models: either `models` (a list
 * of `defineModel()` results, grouped under `name`) or `project` (a `defineProject()` result, with
 * seeds and singular tests). Validated at load time by the same schema as `dataflow.yml`.
 */
export type DataflowConfig = Omit<z.input<typeof configSchema>, 'models' | DbtOnlyKey> & {
  models?: readonly AnyModelDefinition[];
  project?: ProjectDefinition;
};

/**
 * Types a `dataflow.config.ts` (identity at runtime). Export it as the default export or as
 * `config`. `${ENV}` is not interpolated here: read `process.env` yourself; credentials (URL
 * passwords, auth tokens, secret keys) are still redacted from logs and the run log.
 *
 * @example
 * import { defineConfig } from '@dataflow/cli';
 * import { defineModel, sql } from '@dataflow/modeling';
 *
 * const stgOrders = defineModel({
 *   name: 'stg_orders', refs: ['raw_orders'],
 *   sql: ({ ref }) => sql`select order_id, amount from ${ref('raw_orders')}`,
 * });
 * export default defineConfig({
 *   name: 'shop',
 *   warehouse: { url: process.env.DATABASE_URL },
 *   sources: { orders: { type: 'csv', location: 'data/orders/{{ ds }}.csv', primary_key: ['order_id'] } },
 *   models: [stgOrders],
 * });
 */
export function defineConfig(config: DataflowConfig): DataflowConfig {
  return config;
}
