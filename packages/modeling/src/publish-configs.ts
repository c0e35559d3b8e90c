import { quoteIdent, quoteLiteral } from '@dataflow/pg';
import type { ModelConfig, ModelNode, RelationInfo, SeedNode } from './graph.js';

/** Grants the current role gave on a relation (what dbt-postgres's `get_show_grant_sql` reads). */
export const SHOW_GRANTS_SQL = `select grantee, lower(privilege_type) as privilege
  from information_schema.role_table_grants
  where grantor = current_role and grantee <> current_role and table_schema = $1 and table_name = $2`;

/** One privilege held by one grantee. */
export interface Grant {
  grantee: string;
  privilege: string;
}

const PRIVILEGE = /^[a-z][a-z ]*$/;

/**
 * dbt's `grants` semantics: for each privilege in the config, the listed grantees are the full
 * set (others lose it, missing ones get it); privileges not in the config are left alone. Pure.
 *
 * @example
 * planGrants(relation, { select: ['reporter'] }, [{ grantee: 'old', privilege: 'select' }]);
 * // ['revoke select on "a"."orders" from "old"', 'grant select on "a"."orders" to "reporter"']
 */
export function planGrants(
  relation: RelationInfo,
  config: Readonly<Record<string, readonly string[]>>,
  current: readonly Grant[],
): string[] {
  const revokes: string[] = [];
  const grants: string[] = [];
  for (const [privilege, grantees] of Object.entries(config)) {
    if (!PRIVILEGE.test(privilege)) throw new TypeError(`not a privilege: ${JSON.stringify(privilege)}`);
    const holders = current.filter((g) => g.privilege === privilege).map((g) => g.grantee);
    const gone = holders.filter((h) => !grantees.includes(h));
    const missing = [...new Set(grantees)].filter((g) => !holders.includes(g));
    if (gone.length)
      revokes.push(`revoke ${privilege} on ${relation.sql} from ${gone.map(quoteIdent).join(', ')}`);
    if (missing.length)
      grants.push(`grant ${privilege} on ${relation.sql} to ${missing.map(quoteIdent).join(', ')}`);
  }
  return [...revokes, ...grants];
}

/** What is applied to a relation after each build or load: a model's or a seed's `grants` / `persist_docs`. */
export interface PublishConfigs {
  relation: RelationInfo;
  grants?: Readonly<Record<string, readonly string[]>>;
  persistDocs?: ModelConfig['persistDocs'];
  description?: string;
  columns?: Readonly<Record<string, { description?: string }>>;
}

/**
 * The publish configs of a model (in its `config`) or a seed (on the node).
 *
 * @example
 * publishConfigsOf(seed); // { relation, grants: { select: ['reporter'] }, persistDocs: undefined, ... }
 */
export function publishConfigsOf(node: ModelNode | SeedNode): PublishConfigs {
  const { grants, persistDocs } = node.resourceType === 'model' ? node.config : node;
  return {
    relation: node.relation,
    ...(grants ? { grants } : {}),
    ...(persistDocs ? { persistDocs } : {}),
    ...(node.description !== undefined ? { description: node.description } : {}),
    ...(node.columns ? { columns: node.columns } : {}),
  };
}

/**
 * dbt's `persist_docs`: the model's or seed's description as `COMMENT ON` its relation, and each
 * documented column that the relation has as `COMMENT ON COLUMN`. Pure.
 *
 * @example
 * planComments(publishConfigsOf(node), 'table', ['id']); // ['comment on table "a"."orders" is \'One row per order\'', ...]
 */
export function planComments(
  node: PublishConfigs,
  kind: 'table' | 'view',
  relationColumns: readonly string[],
): string[] {
  const docs = node.persistDocs;
  if (!docs) return [];
  const out: string[] = [];
  if (docs.relation && node.description)
    out.push(`comment on ${kind} ${node.relation.sql} is ${quoteLiteral(node.description)}`);
  if (docs.columns)
    for (const [name, column] of Object.entries(node.columns ?? {})) {
      if (!column.description || !relationColumns.includes(name)) continue;
      out.push(
        `comment on column ${node.relation.sql}.${quoteIdent(name)} is ${quoteLiteral(column.description)}`,
      );
    }
  return out;
}
