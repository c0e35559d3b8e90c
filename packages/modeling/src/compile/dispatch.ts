/** One `dispatch:` entry of `dbt_project.yml`. */
export interface DispatchConfig {
  macro_namespace: string;
  search_order: string[];
}

/** What dispatch resolution depends on besides the call itself. */
export interface DispatchSettings {
  rootProject: string;
  /** Installed packages by project name (`dbt_utils`, `dbt_date`). */
  packages: ReadonlySet<string>;
  dispatch: readonly DispatchConfig[];
  /** Adapter prefixes in search order: `['postgres', 'default']`. */
  prefixes: readonly string[];
}

/** One place dispatch looks: a macro name in a package, or (`package` undefined) in every package as unqualified calls see them. */
export interface DispatchCandidate {
  package: string | undefined;
  macro: string;
}

/**
 * dbt's `adapter.dispatch(name, macro_namespace)` search list: the project's `dispatch:`
 * `search_order` for the namespace when configured (it replaces the default); else, for an
 * installed package or the built-in `dbt` one (dbt counts its internal packages as dependencies),
 * the root project then that package; else (no namespace) the macros unqualified calls see,
 * where project macros shadow built-ins. Within each package
 * the adapter's prefix comes before `default__`.
 *
 * @example
 * dispatchCandidates('star', 'dbt_utils', { rootProject: 'shop', packages: new Set(['dbt_utils']), dispatch: [], prefixes: ['postgres', 'default'] });
 * // shop.postgres__star, shop.default__star, dbt_utils.postgres__star, dbt_utils.default__star
 */
export function dispatchCandidates(
  name: string,
  namespace: string | undefined,
  settings: DispatchSettings,
): DispatchCandidate[] {
  const configured = settings.dispatch.find((d) => d.macro_namespace === namespace)?.search_order;
  const packages: (string | undefined)[] =
    configured ??
    (namespace !== undefined && (settings.packages.has(namespace) || namespace === 'dbt')
      ? [settings.rootProject, namespace]
      : [undefined]);
  return packages.flatMap((pkg) =>
    settings.prefixes.map((prefix) => ({ package: pkg, macro: `${prefix}__${name}` })),
  );
}

/** dbt's error text when no candidate exists. */
export function dispatchNotFoundMessage(
  name: string,
  namespace: string | undefined,
  tried: DispatchCandidate[],
): string {
  const searched = tried.map((c) => (c.package ? `${c.package}.${c.macro}` : c.macro));
  return `In dispatch: No macro named '${name}' found within namespace: '${namespace ?? 'None'}'\n    Searched for: '${searched.join("', '")}'`;
}

/**
 * The first candidate `lookup` finds; a `dispatchNotFoundMessage` error when none.
 *
 * @example
 * const macro = resolveDispatch('star', 'dbt_utils', settings, (pkg, name) => macros.get(`${pkg}.${name}`));
 */
export function resolveDispatch<T>(
  name: string,
  namespace: string | undefined,
  settings: DispatchSettings,
  lookup: (pkg: string | undefined, macro: string) => T | undefined,
): T {
  const candidates = dispatchCandidates(name, namespace, settings);
  for (const c of candidates) {
    const found = lookup(c.package, c.macro);
    if (found !== undefined) return found;
  }
  throw new Error(dispatchNotFoundMessage(name, namespace, candidates));
}

/**
 * {@link resolveDispatch} over fixed settings, with each call's candidate list computed once (dbt
 * packages dispatch on every macro call; the macros themselves are still looked up every time,
 * since a unit test may override one).
 *
 * @example
 * const dispatch = createDispatchResolver(settings);
 * dispatch('star', 'dbt_utils', (pkg, name) => macros.get(`${pkg}.${name}`));
 */
export function createDispatchResolver(
  settings: DispatchSettings,
): <T>(
  name: string,
  namespace: string | undefined,
  lookup: (pkg: string | undefined, macro: string) => T | undefined,
) => T {
  const cache = new Map<string, DispatchCandidate[]>();
  return (name, namespace, lookup) => {
    const key = `${namespace ?? ''}\u0000${name}`;
    let candidates = cache.get(key);
    if (!candidates) {
      candidates = dispatchCandidates(name, namespace, settings);
      cache.set(key, candidates);
    }
    for (const c of candidates) {
      const found = lookup(c.package, c.macro);
      if (found !== undefined) return found;
    }
    throw new Error(dispatchNotFoundMessage(name, namespace, candidates));
  };
}
