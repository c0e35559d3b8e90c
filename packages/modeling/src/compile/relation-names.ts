import type { RelationInfo } from '../graph.js';
import { isPyCallable, type PyCallable, pyStr } from '../jinja/values.js';
import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { CompileContext } from './context.js';
import { relationOf } from './names.js';

/** What dbt's `generate_*_name` macros are told about a node (their `node` argument). */
export interface NamingNode {
  name: string;
  resourceType: 'model' | 'seed' | 'snapshot' | 'test';
  /** The installed package the node comes from; undefined for the root project's nodes. */
  packageName: string | undefined;
  fqn: string[];
  file?: string;
  /** The node's merged config (`schema`, `alias`, `database` are the custom names). */
  config: ConfigLayer;
}

type Component = 'schema' | 'alias' | 'database';

const customName = (config: ConfigLayer, key: Component): string | null => {
  const v = config[key];
  return typeof v === 'string' && v.trim() !== '' ? v : null;
};

/**
 * dbt's default rules, applied without rendering when no macro overrides them: a custom schema is
 * appended to the target schema (`analytics_staging`), the alias is the custom alias or the
 * node's name, the database is the custom one (absent: the connection's).
 *
 * @example
 * defaultName('schema', 'staging', { targetSchema: 'analytics', name: 'orders' }); // 'analytics_staging'
 */
export function defaultName(
  component: Component,
  custom: string | null,
  node: { targetSchema: string; name: string },
): string | undefined {
  if (component === 'schema')
    return custom === null ? node.targetSchema : `${node.targetSchema}_${custom.trim()}`;
  if (component === 'alias') return custom === null ? node.name : custom.trim();
  return custom === null ? undefined : custom.trim();
}

const macros = new WeakMap<CompileContext, Map<string, PyCallable | undefined>>();

/** `JinjaEnvironment.generateNameMacro`, looked up once per compile, component and package. */
function namingMacro(ctx: CompileContext, component: Component, packageName: string | undefined) {
  let known = macros.get(ctx);
  if (!known) {
    known = new Map();
    macros.set(ctx, known);
  }
  const key = `${component}\u0000${packageName ?? ''}`;
  if (!known.has(key)) known.set(key, ctx.jinja.generateNameMacro(component, packageName));
  return known.get(key);
}

/** The `node` argument as dbt passes it: a dict with the parts projects' macros read. */
function nodeValue(ctx: CompileContext, node: NamingNode): Record<string, unknown> {
  const packageName = node.packageName ?? ctx.projectName;
  return {
    name: node.name,
    resource_type: node.resourceType,
    package_name: packageName,
    unique_id: `${node.resourceType}.${packageName}.${node.name}`,
    fqn: node.fqn,
    original_file_path: node.file ?? null,
    path: node.file ? node.file.split('/').slice(1).join('/') : null,
    config: { ...node.config },
    tags: Array.isArray(node.config.tags) ? node.config.tags : [],
    version: null,
  };
}

/**
 * Where a model, seed or snapshot is built, by dbt's `generate_database_name`,
 * `generate_schema_name` and `generate_alias_name`: a project's (or the node's own package's)
 * macro of that name, or dbt's default rule. A macro that fails is a `TEMPLATE_ERROR` diagnostic
 * on the node, and the default rule names it so the compile goes on.
 *
 * @example
 * nodeRelation(ctx, { name: 'orders', resourceType: 'model', packageName: undefined, fqn: ['shop', 'orders'], config: { schema: 'marts' } }).sql;
 * // '"analytics_marts"."orders"' (dbt's default rule)
 */
export function nodeRelation(ctx: CompileContext, node: NamingNode): RelationInfo {
  let value: Record<string, unknown> | undefined;
  const name = (component: Component): string | undefined => {
    const custom = customName(node.config, component);
    const fallback = defaultName(component, custom, { targetSchema: ctx.targetSchema, name: node.name });
    const macro = namingMacro(ctx, component, node.packageName);
    if (!macro) return fallback;
    value ??= nodeValue(ctx, node);
    return callNamingMacro(ctx, macro, component, custom, value, node) ?? fallback;
  };
  const database = name('database');
  const schema = name('schema') as string;
  const identifier = name('alias') as string;
  const targetDatabase = (ctx.jinja.env.globals.get('target') as { database?: unknown } | undefined)
    ?.database;
  const ownDatabase = database === undefined || database === targetDatabase ? undefined : database;
  return relationOf(schema, identifier, ownDatabase);
}

function callNamingMacro(
  ctx: CompileContext,
  macro: PyCallable,
  component: Component,
  custom: string | null,
  value: Record<string, unknown>,
  node: NamingNode,
): string | undefined {
  const report = ctx.diagnostics.at(node.name, node.file);
  try {
    const result = macro([custom, value], {});
    const text = isPyCallable(result) ? '' : pyStr(result).trim();
    if (component === 'database' && (text === '' || text === 'None')) return undefined;
    if (text === '' || text === 'None') {
      report.error(
        'CONFIG_ERROR',
        `generate_${component}_name returned ${text === '' ? 'an empty name' : 'None'} for ${node.name}`,
      );
      return undefined;
    }
    return text;
  } catch (error) {
    const problem = templateProblem(error, node.file ?? node.name);
    report.error('TEMPLATE_ERROR', `generate_${component}_name for ${node.name}: ${problem.message}`);
    return undefined;
  }
}
