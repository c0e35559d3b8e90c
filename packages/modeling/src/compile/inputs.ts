import type { RenderScope } from '../jinja.js';
import type { ConfigLayer } from '../project-files.js';
import type { TestDeclaration, YmlSourceTable } from '../schema-yml.js';
import type { UnitTestDeclaration } from '../unit-test/parse.js';

/** A model before rendering, from either a `.sql` file or a TS definition. */
export interface ModelSource {
  name: string;
  /** The installed package (`dbt_packages/<name>`) it comes from; the root project when absent. */
  packageName?: string;
  file?: string;
  fqn: string[];
  rawSql?: string;
  layers: ConfigLayer[];
  /** TS-API config (wins like an inline `config()` call). */
  inline: ConfigLayer;
  /** A package model's config from the root project file: wins over `inline` and `config()`. */
  rootLayers?: ConfigLayer[];
  description?: string;
  columns: Record<string, { description?: string }>;
  tests: TestDeclaration[];
  testsFile?: string;
  /**
   * The template outputs `ref()` / `source()` / `this` only directly (see `outputsContextDirectly`):
   * its first render, with tokens for those values, becomes the final SQL by substituting them.
   */
  substitutable?: boolean;
  render(scope: RenderScope): string;
}

/** A seed CSV with its config layers and declared tests. */
export interface SeedSource {
  name: string;
  /** The installed package it comes from; the root project when absent. */
  packageName?: string;
  file: string;
  absPath: string;
  layers: ConfigLayer[];
  tests: TestDeclaration[];
  testsFile?: string;
  /** schema.yml `description:` and column descriptions (what `persist_docs` writes as comments). */
  description?: string;
  columns?: Record<string, { description?: string }>;
}

/** A singular test (a `.sql` file under test-paths or a TS `defineTest`). */
export interface SingularSource {
  name: string;
  file?: string;
  rawSql?: string;
  severity?: string;
  render(scope: RenderScope): string;
}

/** A snapshot before rendering: a `{% snapshot %}` block, or a YAML entry with a `relation`. */
export interface SnapshotSource {
  name: string;
  file: string;
  /** Line of the block in its file (YAML snapshots: absent). */
  line?: number;
  fqn: string[];
  rawSql: string;
  /** Project folder config < YAML `config:` (the block's own `config()` wins over both). */
  layers: ConfigLayer[];
  description?: string;
  columns: Record<string, { description?: string }>;
  tests: TestDeclaration[];
  testsFile?: string;
  render(scope: RenderScope): string;
}

/** What the parse phase reads from a project: the input of everything after it. */
export interface ProjectInputs {
  name: string;
  rootDir?: string;
  vars: Record<string, unknown>;
  /** The root project's `on-run-start` / `on-run-end` hooks, as Jinja text. */
  onRunStart?: string[];
  onRunEnd?: string[];
  models: ModelSource[];
  seeds: SeedSource[];
  /** Source tables declared in schema.yml (locations only as far as the yml states them). */
  sources: YmlSourceTable[];
  singular: SingularSource[];
  snapshots: SnapshotSource[];
  unitTests: UnitTestDeclaration[];
  /** Installed packages read with the project (`dbt_packages/`), with their own `vars`. */
  packages?: PackageInputs[];
  /**
   * The project's `data_tests:` folder config that applies to a test declared in `file` (a
   * properties file or a singular test's `.sql`), outermost first.
   */
  testConfigLayers?: (file: string) => ConfigLayer[];
}

/** One installed package as the parse phase found it. */
export interface PackageInputs {
  name: string;
  /** Its directory relative to the root project (`dbt_packages/dbt_utils`). */
  dir: string;
  vars: Record<string, unknown>;
}
