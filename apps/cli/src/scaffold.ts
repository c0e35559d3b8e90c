/** The two days of sample orders both scaffolds ship. */
function sampleData(): Record<string, string> {
  return {
    'data/orders/2026-05-01.csv': `order_id,customer_id,ordered_at,status,amount
1001,1,2026-05-01,completed,19.90
1002,2,2026-05-01,completed,5.00
1003,1,2026-05-01,shipped,42.50
1004,3,2026-05-01,cancelled,12.00
1005,4,2026-05-01,placed,7.25
`,
    'data/orders/2026-05-02.csv': `order_id,customer_id,ordered_at,status,amount
1006,2,2026-05-02,completed,15.00
1007,5,2026-05-02,returned,30.00
1008,1,2026-05-02,placed,8.75
`,
  };
}

/**
 * Files of the project `dataflow init` writes: path → content. Pure.
 *
 * @example
 * for (const [path, content] of Object.entries(scaffoldFiles('shop'))) await writeFile(join(dir, path), content);
 */
export function scaffoldFiles(name: string): Record<string, string> {
  return {
    'dataflow.yml': `# dataflow project. Reference: https://github.com/dataflow/dataflow/tree/main/apps/cli#configuration
name: ${name}

# warehouse.url omitted: an embedded PostgreSQL is kept under .dataflow/postgres
#   (set it, or DATAFLOW_DATABASE_URL, to use your own: url: \${DATABASE_URL};
#   an unset \${VAR} is an error, \${VAR:-} means "optional": url: \${DATABASE_URL:-})
# lake.url omitted: the lake is the local directory .dataflow/lake/raw
#   (s3://bucket/prefix with endpoint: for MinIO or any S3-compatible store)

sources:
  orders:
    type: csv
    location: data/orders/{{ ds }}.csv     # one file per day; {{ ds }} is the run date
    primary_key: [order_id]
    disposition: replace_partition         # append | replace | replace_partition | merge
    columns:
      order_id: integer
      customer_id: integer
      ordered_at: date
      status: text
      amount: numeric
`,
    ...sampleData(),
    'models/staging/stg_orders.sql': `{{ config(materialized='view') }}

select
  order_id,
  customer_id,
  ordered_at,
  lower(status) as status,
  amount
from {{ source('raw', 'orders') }}
`,
    'models/marts/fct_daily_revenue.sql': `{{ config(materialized='table') }}

select
  ordered_at as order_date,
  count(*) as orders,
  sum(amount) as revenue
from {{ ref('stg_orders') }}
where status <> 'cancelled'
group by ordered_at
`,
    'models/schema.yml': `version: 2

models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [not_null, unique]
      - name: status
        data_tests:
          - accepted_values:
              values: [placed, shipped, completed, returned, cancelled]
  - name: fct_daily_revenue
    columns:
      - name: order_date
        data_tests: [not_null, unique]
      - name: revenue
        data_tests: [not_null]
`,
    '.gitignore': `.dataflow/
target/
`,
    'README.md': `# ${name}

Scaffolded by \`dataflow init\`.

    dataflow run --date 2026-05-01     # ingest -> load -> build + tests, embedded PostgreSQL
    dataflow runs                      # what happened

Add a day: drop \`data/orders/YYYY-MM-DD.csv\` and run with that \`--date\`.
`,
  };
}

/**
 * Files of the TypeScript project `dataflow init --typescript` writes: `dataflow.config.ts` with
 * the same source, models and tests as the YAML scaffold, written with `@dataflow/modeling`'s
 * TypeScript API, and a `package.json` (`"type": "module"`) naming the packages it imports. Pure.
 *
 * @example
 * Object.keys(scaffoldTsFiles('shop', '0.1.0')); // ['dataflow.config.ts', 'package.json', 'tsconfig.json', …]
 */
export function scaffoldTsFiles(name: string, version: string): Record<string, string> {
  return {
    'dataflow.config.ts': `// dataflow project in TypeScript. Reference: https://github.com/dataflow/dataflow/tree/main/apps/cli#configuration-in-typescript-dataflowconfigts
import { defineConfig } from '@dataflow/cli';
import { defineModel, sql } from '@dataflow/modeling';

const stgOrders = defineModel({
  name: 'stg_orders',
  materialized: 'view',
  refs: ['raw_orders'],
  columns: {
    order_id: { tests: ['not_null', 'unique'] },
    status: { tests: [{ accepted_values: { values: ['placed', 'shipped', 'completed', 'returned', 'cancelled'] } }] },
  },
  sql: ({ ref }) => sql\`
select order_id, customer_id, ordered_at, lower(status) as status, amount
from \${ref('raw_orders')}\`,
});

const fctDailyRevenue = defineModel({
  name: 'fct_daily_revenue',
  materialized: 'table',
  refs: ['stg_orders'],
  columns: { order_date: { tests: ['not_null', 'unique'] }, revenue: { tests: ['not_null'] } },
  sql: ({ ref }) => sql\`
select ordered_at as order_date, count(*) as orders, sum(amount) as revenue
from \${ref('stg_orders')}
where status <> \${'cancelled'}
group by ordered_at\`,
});

export default defineConfig({
  name: '${name}',
  // Absent: an embedded PostgreSQL under .dataflow/postgres (or set DATAFLOW_DATABASE_URL).
  warehouse: { url: process.env.DATABASE_URL },
  sources: {
    // One file per day; {{ ds }} is the run date.
    orders: {
      type: 'csv',
      location: 'data/orders/{{ ds }}.csv',
      primary_key: ['order_id'],
      disposition: 'replace_partition',
      columns: { order_id: 'integer', customer_id: 'integer', ordered_at: 'date', status: 'text', amount: 'numeric' },
    },
  },
  models: [stgOrders, fctDailyRevenue],
});
`,
    'package.json': `${JSON.stringify(
      {
        name,
        private: true,
        type: 'module',
        dependencies: { '@dataflow/cli': version, '@dataflow/modeling': version },
      },
      null,
      2,
    )}\n`,
    ...sampleData(),
    '.gitignore': `.dataflow/
target/
node_modules/
`,
    'README.md': `# ${name}

Scaffolded by \`dataflow init --typescript\`: models are TypeScript, in \`dataflow.config.ts\`.

    npm install                        # @dataflow/cli and @dataflow/modeling
    npx dataflow run --date 2026-05-01 # ingest -> load -> build + tests, embedded PostgreSQL
    npx dataflow runs                  # what happened
`,
  };
}
