import type { ModelConfig, RelationInfo } from '../graph.js';
import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { CompileContext } from './context.js';
import type { ModelSource } from './inputs.js';
import { modelDict } from './jinja-graph.js';
import { mergeLayers, toModelConfig } from './model-config.js';
import { checkIdentifierLength, claimName, type NameTable } from './names.js';
import { nodeRelation } from './relation-names.js';
import { renderConfigLayers } from './yaml-jinja.js';

/** What a token in a first render stands for; see {@link ModelSource.substitutable}. */
export type ContextValue = { ref: string } | { source: [string, string] };
/** Matches the tokens a substitutable first render outputs for `ref()`, `source()` and `this`. */
export const TOKEN = /\uE000df(\d+|this)\uE000/g;
const token = (index: number | 'this') => `\uE000df${index}\uE000`;
/** What `ref()` / `source()` output where no relation is known (first render, unknown names). */
export const refPlaceholder = (name: string): string => `__df_ref__${name}__`;
export const sourcePlaceholder = (s: string, t: string): string => `__df_source__${s}__${t}__`;

/** A model after its first render: what it reads, its layered config. */
export interface ParsedModel {
  src: ModelSource;
  refs: string[];
  sources: Array<[string, string]>;
  config: ModelConfig;
  /** The merged config as written (every key, for the naming macros' `node.config`). */
  rawConfig?: ConfigLayer;
  /** The first render with tokens for `tokens[i]`, when the template is substitutable. */
  tokenized?: { sql: string; tokens: ContextValue[] };
  /**
   * Set when the first render failed (already a `TEMPLATE_ERROR`): the model keeps its name and
   * its relation from the project and YAML config, so its children link to it, not to nothing.
   */
  failed?: true;
}

/** A parsed model that owns its name: its unique id and target relation. */
export interface NamedModel extends ParsedModel {
  uniqueId: string;
  relation: RelationInfo;
}

/**
 * First render of one model (dbt's parse): collects `ref()`, `source()` and `config()` calls with
 * placeholders for the relations; a substitutable template keeps its render with tokens so the
 * compile phase can substitute relations instead of rendering again. Returns undefined when the
 * model is disabled; on a template error, reports it and returns the model marked `failed`, its
 * config from the project and YAML layers alone (undefined when those disable it).
 *
 * @example
 * const parsed = parseModel(ctx, inputs.models[0]); // { refs: ['stg_orders'], config: { materialized: 'table', ... } }
 */
export function parseModel(ctx: CompileContext, src: ModelSource): ParsedModel | undefined {
  const report = ctx.diagnostics.at(src.name, src.file);
  const refs: string[] = [];
  const sources: Array<[string, string]> = [];
  const inline: ConfigLayer = {};
  const tokens: ContextValue[] = [];
  const tokenFor = (value: ContextValue) => token(tokens.push(value) - 1);
  // A macro that names ref/source/this may transform the tokens: then the model renders again.
  let macroReadContext = false;
  // dbt's parse-time var(): a missing var is None (a model may be disabled by its own config);
  // the final render, which only enabled models get, reports it.
  let missingVar = false;
  const varOf = ctx.varFor(src.packageName);
  const parseVar: typeof varOf = (name, dflt, hasDefault) => {
    try {
      return varOf(name, dflt, hasDefault);
    } catch {
      missingVar = true;
      return null;
    }
  };
  const site = { packageName: src.packageName, file: src.file ?? src.name, node: src.name };
  const layers = renderConfigLayers(ctx, src.layers, site);
  // The root project file's config for a package model wins over the model's own config() call.
  const rootLayers = renderConfigLayers(ctx, src.rootLayers ?? [], site);
  const packageName = src.packageName ?? ctx.projectName;
  // dbt's `model` in the manifest's shape; its `config` follows each `config()` call of the render.
  const model = modelDict(ctx.projectName, {
    ...src,
    uniqueId: `model.${packageName}.${src.name}`,
    packageName,
    rawConfig: mergeLayers([...layers, src.inline]),
  });
  const modelConfig = model.config as ConfigLayer;
  let firstRender: string;
  try {
    firstRender = src.render({
      ref: (n) => {
        refs.push(n);
        return src.substitutable ? tokenFor({ ref: n }) : refPlaceholder(n);
      },
      source: (s, t) => {
        sources.push([s, t]);
        return src.substitutable ? tokenFor({ source: [s, t] }) : sourcePlaceholder(s, t);
      },
      config: (values) => Object.assign(modelConfig, Object.assign(inline, values)),
      var: parseVar,
      // Every `{{ this }}` of a substitutable template outputs the same token.
      thisRelation: src.substitutable ? token('this') : '__df_this__',
      isIncremental: false,
      model,
      onContextRead: () => {
        macroReadContext = true;
      },
    });
  } catch (error) {
    const p = templateProblem(error, src.file ?? src.name, src.rawSql);
    report.error('TEMPLATE_ERROR', p.message, p.line);
    return failedModel(src, mergeLayers([...layers, src.inline, ...rootLayers]));
  }
  const rawConfig = mergeLayers([...layers, src.inline, inline, ...rootLayers]);
  const warnings: string[] = [];
  const config = toModelConfig(
    rawConfig,
    (message) => report.error('CONFIG_ERROR', `${src.name}: ${message}`),
    (message) => warnings.push(message),
  );
  if (!config.enabled) return undefined;
  for (const message of warnings) report.warning('UNSUPPORTED_CONFIG', `${src.name}: ${message}`);
  return {
    src,
    refs,
    sources,
    config,
    rawConfig,
    ...(src.substitutable && !macroReadContext && !missingVar
      ? { tokenized: { sql: firstRender, tokens } }
      : {}),
  };
}

/** A model whose first render failed, configured by its project and YAML layers alone. */
function failedModel(src: ModelSource, rawConfig: ConfigLayer): ParsedModel | undefined {
  // Its config problems would only repeat the template error's cause: not reported.
  const config = toModelConfig(rawConfig, () => {});
  if (!config.enabled) return undefined;
  return { src, refs: [], sources: [], config, rawConfig, failed: true };
}

/** Gives a parsed model its relation and claims its name; undefined when the name is taken. */
export function nameModel(
  ctx: CompileContext,
  parsed: ParsedModel,
  names: NameTable,
): NamedModel | undefined {
  const { src, config } = parsed;
  const relation = nodeRelation(ctx, {
    name: src.name,
    resourceType: 'model',
    packageName: src.packageName,
    fqn: src.fqn,
    ...(src.file ? { file: src.file } : {}),
    config: { ...(parsed.rawConfig ?? config), materialized: config.materialized },
  });
  checkIdentifierLength(ctx, relation.identifier, 'model', src.file);
  const uniqueId = `model.${src.packageName ?? ctx.projectName}.${src.name}`;
  const entry = {
    uniqueId,
    relation,
    ephemeral: config.materialized === 'ephemeral',
    ...(src.file ? { file: src.file } : {}),
  };
  return claimName(ctx, names, src.name, entry) ? { ...parsed, uniqueId, relation } : undefined;
}
