import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeChecksums } from './checksums.js';
import { ModelingError } from './errors.js';
import type { RelationInfo } from './graph.js';

/** One node of a previous run's `manifest.json`, as `state:` selectors and `--defer` read it. */
export interface StateNode {
  resourceType: string;
  /** Absent in a manifest written by dbt or an older dataflow: such a node counts as modified. */
  checksums?: NodeChecksums;
  /** Where the previous run built it (models, seeds, snapshots): what `--defer` reads instead. */
  relation?: RelationInfo;
}

/** A previous run's manifest, reduced to what state comparison and deferral need. */
export interface StateManifest {
  nodes: Record<string, StateNode>;
  /**
   * Macro checksums by unique id (`macros.<id>.checksum.checksum`); absent when the manifest has
   * no `macros` section (then every node that calls a macro counts as `modified.macros`).
   */
  macros?: Record<string, string>;
}

/** Statuses of a previous run's nodes by unique id (`run_results.json`): what `result:` selects on. */
export type PreviousResults = Record<string, string>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checksumsOf(value: unknown): NodeChecksums | undefined {
  if (!isRecord(value)) return undefined;
  const { body, configs, relation } = value;
  return typeof body === 'string' && typeof configs === 'string' && typeof relation === 'string'
    ? { body, configs, relation }
    : undefined;
}

function relationOf(node: Record<string, unknown>): RelationInfo | undefined {
  const schema = node.schema;
  const identifier = node.alias ?? node.identifier;
  const sql = node.relation_name;
  if (typeof schema !== 'string' || typeof identifier !== 'string' || typeof sql !== 'string')
    return undefined;
  return {
    ...(typeof node.database === 'string' ? { database: node.database } : {}),
    schema,
    identifier,
    sql,
  };
}

/**
 * Reads the nodes of a `manifest.json` (dataflow's or dbt's shape). Pure; throws
 * `ModelingError('STATE_INVALID')` naming `file` when the JSON has no `nodes` object.
 *
 * @example
 * parseStateManifest(JSON.parse(text), 'prod/manifest.json').nodes['model.shop.orders']?.checksums;
 */
export function parseStateManifest(json: unknown, file: string): StateManifest {
  if (!isRecord(json) || !isRecord(json.nodes))
    throw new ModelingError('STATE_INVALID', `${file}: expected a manifest with a "nodes" object`, { file });
  const nodes: Record<string, StateNode> = {};
  for (const group of [json.nodes, json.sources, json.unit_tests]) {
    if (!isRecord(group)) continue;
    for (const [id, raw] of Object.entries(group)) {
      if (!isRecord(raw)) continue;
      const checksums = checksumsOf(raw.checksums);
      const relation = relationOf(raw);
      nodes[id] = {
        resourceType: typeof raw.resource_type === 'string' ? raw.resource_type : 'unknown',
        ...(checksums ? { checksums } : {}),
        ...(relation ? { relation } : {}),
      };
    }
  }
  return { nodes, ...(isRecord(json.macros) ? { macros: macroChecksums(json.macros) } : {}) };
}

function macroChecksums(macros: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, raw] of Object.entries(macros)) {
    const checksum = isRecord(raw) && isRecord(raw.checksum) ? raw.checksum.checksum : undefined;
    if (typeof checksum === 'string') out[id] = checksum;
  }
  return out;
}

/**
 * Reads the statuses of a `run_results.json` by unique id. Pure; throws
 * `ModelingError('STATE_INVALID')` naming `file` when it has no `results` list.
 *
 * @example
 * parseRunResults({ results: [{ unique_id: 'model.shop.orders', status: 'error' }] }, 'target/run_results.json');
 * // { 'model.shop.orders': 'error' }
 */
export function parseRunResults(json: unknown, file: string): PreviousResults {
  if (!isRecord(json) || !Array.isArray(json.results))
    throw new ModelingError('STATE_INVALID', `${file}: expected run results with a "results" list`, { file });
  const out: PreviousResults = {};
  for (const [i, r] of json.results.entries()) {
    if (!isRecord(r) || typeof r.unique_id !== 'string' || typeof r.status !== 'string')
      throw new ModelingError(
        'STATE_INVALID',
        `${file}: results[${i}]: expected "unique_id" and "status" strings`,
        { file },
      );
    out[r.unique_id] = r.status;
  }
  return out;
}

async function readJson(file: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelingError('STATE_INVALID', `${file}: cannot be read`, { file, cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelingError('STATE_INVALID', `${file}: not valid JSON (${(error as Error).message})`, {
      file,
      cause: error,
    });
  }
}

/**
 * Reads `<dir>/manifest.json` (required) for `state:` selectors and `--defer`.
 *
 * @example
 * const previous = await readStateManifest('prod-artifacts');
 */
export async function readStateManifest(dir: string): Promise<StateManifest> {
  const file = join(dir, 'manifest.json');
  const json = await readJson(file);
  if (json === undefined)
    throw new ModelingError('STATE_INVALID', `${file}: not found (--state needs a previous manifest.json)`, {
      file,
    });
  return parseStateManifest(json, file);
}

/**
 * Reads `<dir>/run_results.json` for `result:` selectors and retry; `undefined` when there is none.
 *
 * @example
 * const results = await readPreviousResults('target'); // { 'model.shop.orders': 'error', ... }
 */
export async function readPreviousResults(dir: string): Promise<PreviousResults | undefined> {
  const file = join(dir, 'run_results.json');
  const json = await readJson(file);
  return json === undefined ? undefined : parseRunResults(json, file);
}
