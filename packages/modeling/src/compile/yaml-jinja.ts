import { nativeValue } from '../jinja/dbt-context.js';
import type { RenderScope } from '../jinja.js';
import { templateProblem } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { CompileContext } from './context.js';

/** Config keys dbt leaves as text for the run to render (hooks run with the model's context). */
const RENDERED_LATER = new Set(['pre-hook', 'post-hook', 'pre_hook', 'post_hook', 'sql_header']);
const HAS_JINJA = /\{[{%#]/;

/** Where a YAML value is rendered: the package whose `var()` it sees and the file to name in errors. */
export interface YamlSite {
  packageName: string | undefined;
  file: string;
  node?: string;
}

const cache = new WeakMap<CompileContext, Map<string, { value: unknown; error?: string }>>();

function yamlScope(ctx: CompileContext, packageName: string | undefined): RenderScope {
  const unavailable = (what: string) => () => {
    throw new Error(`${what}() is not available in YAML values (dbt renders them before any node exists)`);
  };
  return {
    ref: unavailable('ref'),
    source: unavailable('source'),
    config: () => undefined,
    var: ctx.varFor(packageName),
    thisRelation: '',
    isIncremental: false,
  };
}

/**
 * One YAML value as dbt renders it: text with Jinja (`"{{ target.name == 'prod' }}"`,
 * `"{{ var('raw_schema') }}"`, `"{{ env_var('DB') }}"`) is rendered with `target`, `var()` and
 * `env_var()` and read back natively (`True` → true, `3` → 3); lists and mappings are rendered
 * item by item; anything else is returned as it is. A render error is a `CONFIG_ERROR` diagnostic
 * naming the file, and the text is kept.
 *
 * @example
 * renderYamlValue(ctx, "{{ target.name == 'prod' }}", { packageName: undefined, file: 'dbt_project.yml' }); // false
 */
export function renderYamlValue(ctx: CompileContext, value: unknown, site: YamlSite): unknown {
  if (typeof value === 'string') return HAS_JINJA.test(value) ? renderText(ctx, value, site) : value;
  if (Array.isArray(value)) return value.map((v) => renderYamlValue(ctx, v, site));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderYamlValue(ctx, v, site);
    return out;
  }
  return value;
}

function renderText(ctx: CompileContext, text: string, site: YamlSite): unknown {
  let memo = cache.get(ctx);
  if (!memo) {
    memo = new Map();
    cache.set(ctx, memo);
  }
  const key = `${site.packageName ?? ''}\u0000${text}`;
  let hit = memo.get(key);
  if (!hit) {
    try {
      hit = { value: nativeValue(ctx.jinja.render(text, site.file, yamlScope(ctx, site.packageName))) };
    } catch (error) {
      hit = { value: text, error: templateProblem(error, site.file).message };
    }
    memo.set(key, hit);
  }
  if (hit.error)
    ctx.diagnostics.error(
      'CONFIG_ERROR',
      `${site.file}: cannot render ${JSON.stringify(text)}: ${hit.error}`,
      {
        file: site.file,
        ...(site.node ? { node: site.node } : {}),
      },
    );
  return hit.value;
}

/**
 * Config layers from `dbt_project.yml` and schema.yml with their Jinja rendered (hooks excepted,
 * which the run renders); layers without Jinja are returned as they are.
 *
 * @example
 * renderConfigLayers(ctx, [{ enabled: "{{ target.name == 'prod' }}" }], site); // [{ enabled: false }]
 */
export function renderConfigLayers(
  ctx: CompileContext,
  layers: ConfigLayer[],
  site: YamlSite,
): ConfigLayer[] {
  return layers.map((layer) => {
    let out: ConfigLayer | undefined;
    for (const [k, v] of Object.entries(layer)) {
      if (RENDERED_LATER.has(k) || !mayHoldJinja(v)) continue;
      out ??= { ...layer };
      out[k] = renderYamlValue(ctx, v, site);
    }
    return out ?? layer;
  });
}

function mayHoldJinja(v: unknown): boolean {
  if (typeof v === 'string') return HAS_JINJA.test(v);
  if (Array.isArray(v)) return v.some(mayHoldJinja);
  if (v && typeof v === 'object') return Object.values(v).some(mayHoldJinja);
  return false;
}
