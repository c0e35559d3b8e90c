import { pyFunction } from './values.js';

/** One project (the root or an installed package) as the runtime config describes it. */
export interface ProjectDescription {
  name: string;
  /** `version:` of its `dbt_project.yml`, as text. */
  version?: string;
  /** Its own `dbt_project.yml` `vars`. */
  vars: Readonly<Record<string, unknown>>;
}

/** dbt's `Project` as `config.dependencies[name]` gives it: an object with attributes, not a dict. */
export class DbtProjectConfig {
  readonly project_name: string;
  readonly version: string | null;
  readonly vars: DbtVars;
  constructor(project: ProjectDescription) {
    this.project_name = project.name;
    this.version = project.version ?? null;
    this.vars = new DbtVars(project.vars);
  }
}

/** dbt's `VarProvider`: the project's vars, read through `to_dict()`. */
export class DbtVars {
  readonly to_dict;
  constructor(vars: Readonly<Record<string, unknown>>) {
    this.to_dict = pyFunction('to_dict', () => ({ ...vars }));
  }
}

/**
 * dbt's `RuntimeConfig`, which templates reach through `builtins.ref.config` (elementary reads the
 * installed package versions and the CLI vars from it): the root project's attributes, its
 * `dependencies` (every loaded project by name, the root included, as dbt's `load_dependencies`),
 * `cli_vars` and `args`.
 */
export class DbtRuntimeConfig extends DbtProjectConfig {
  readonly dependencies: Map<string, DbtProjectConfig>;
  readonly cli_vars: Readonly<Record<string, unknown>>;
  readonly args: Readonly<Record<string, unknown>>;
  readonly target_name: string;
  constructor(
    root: ProjectDescription,
    packages: readonly ProjectDescription[],
    invocation: {
      cliVars: Readonly<Record<string, unknown>>;
      args: Readonly<Record<string, unknown>>;
      targetName: string;
    },
  ) {
    super(root);
    this.dependencies = new Map([root, ...packages].map((p) => [p.name, new DbtProjectConfig(p)]));
    this.cli_vars = invocation.cliVars;
    this.args = invocation.args;
    this.target_name = invocation.targetName;
  }
}

/**
 * dbt's `invocation_args_dict`: the command's arguments by their lower-case names (`which`,
 * `vars`, `select`…). Offline compiles have no selection.
 *
 * @example
 * invocationArgs('compile', { days: 3 }); // { which: 'compile', vars: { days: 3 }, select: [], exclude: [], full_refresh: false }
 */
export function invocationArgs(
  which: string,
  cliVars: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return { which, vars: { ...cliVars }, select: [], exclude: [], full_refresh: false };
}
