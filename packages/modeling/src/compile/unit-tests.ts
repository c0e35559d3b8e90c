import { qualify, shortName } from '@dataflow/pg';
import type { UnitTestNode } from '../graph.js';
import { templateProblem } from '../jinja.js';
import type { UnitTestDeclaration, UnitTestGiven } from '../unit-test/parse.js';
import type { UnitTestInput, UnitTestSpec } from '../unit-test/spec.js';
import { type CompileContext, varLookup } from './context.js';
import type { Linker } from './link.js';
import type { NamedModel } from './parse-models.js';

const labelOf = (g: UnitTestGiven) =>
  g.target.kind === 'ref'
    ? g.target.name
    : g.target.kind === 'source'
      ? `${g.target.source}_${g.target.table}`
      : 'this';

/** The inputs of one test with their temp names and real relations; unknown names are reported. */
function resolveInputs(
  decl: UnitTestDeclaration,
  model: NamedModel,
  linker: Linker,
  problem: (code: 'UNKNOWN_REF' | 'UNKNOWN_SOURCE', message: string) => void,
): UnitTestInput[] {
  return decl.given.map((g, i) => {
    const tempName = shortName(`__df_ut_${i}_${labelOf(g)}`, `_${i}`);
    const t = g.target;
    const resolved =
      t.kind === 'ref'
        ? linker.ref(t.name)
        : t.kind === 'source'
          ? linker.source(t.source, t.table)
          : undefined;
    if (t.kind !== 'this' && !resolved)
      problem(
        t.kind === 'ref' ? 'UNKNOWN_REF' : 'UNKNOWN_SOURCE',
        `given ${g.input} is not a model, seed, snapshot or declared source`,
      );
    const relation =
      t.kind === 'this' ? model.relation : resolved && !resolved.ephemeral ? resolved.relation : undefined;
    return { input: g.input, tempName, ...(relation ? { relation } : {}), fixture: g.fixture };
  });
}

/**
 * Renders the model for one test: every `ref()` / `source()` / `this` that has a `given` input reads
 * its temp table (`pg_temp."…"`); the test's vars, env vars and macro overrides apply. Names the
 * model reads without a given input are collected in `missing` (the test must not read real data).
 */
function renderForTest(
  ctx: CompileContext,
  decl: UnitTestDeclaration,
  model: NamedModel,
  inputs: UnitTestInput[],
  isIncremental: boolean,
  missing: Set<string>,
): string {
  const byInput = new Map(inputs.map((i) => [i.input, qualify('pg_temp', i.tempName)]));
  const read = (input: string) => {
    const table = byInput.get(input);
    if (!table) missing.add(input);
    return table ?? `__df_missing_input__`;
  };
  const { macros, vars, envVars } = decl.overrides;
  const { is_incremental: _ignored, ...otherMacros } = macros;
  return ctx.jinja.withOverrides({ macros: otherMacros, envVars }, () =>
    model.src.render({
      ref: (n) => read(`ref('${n}')`),
      source: (s, t) => read(`source('${s}', '${t}')`),
      config: () => undefined,
      var: varLookup({ ...ctx.vars, ...vars }),
      thisRelation: byInput.get('this') ?? model.relation.sql,
      isIncremental,
    }),
  );
}

/**
 * Compile phase of unit tests (dbt ≥ 1.8 `unit_tests:`): each test becomes a node attached to its
 * model, holding the model's SQL rendered against temp tables for its inputs. `is_incremental()` is
 * the `overrides.macros.is_incremental` value, else true exactly when the model is incremental and
 * `this` is given; then the run applies the batch to `this` and asserts the table after it.
 *
 * @example
 * const nodes = compileUnitTests(ctx, inputs.unitTests, models, linker); // UnitTestNode[]
 */
export function compileUnitTests(
  ctx: CompileContext,
  declarations: UnitTestDeclaration[],
  models: NamedModel[],
  linker: Linker,
): UnitTestNode[] {
  const byName = new Map(models.map((m) => [m.src.name, m]));
  const out: UnitTestNode[] = [];
  const seen = new Map<string, string>();
  for (const decl of declarations) {
    if (!decl.enabled) continue;
    const report = ctx.diagnostics.at(decl.name, decl.file);
    const key = `${decl.model}.${decl.name}`;
    const prior = seen.get(key);
    if (prior) {
      report.error(
        'DUPLICATE_NAME',
        `unit test ${decl.name} of model ${decl.model} is declared twice (also in ${prior})`,
      );
      continue;
    }
    seen.set(key, decl.file);
    const model = byName.get(decl.model);
    if (!model) {
      report.error('UNKNOWN_REF', `unit test ${decl.name}: model ${decl.model} does not exist`);
      continue;
    }
    if (model.config.materialized === 'ephemeral') {
      report.error(
        'CONFIG_ERROR',
        `unit test ${decl.name}: ephemeral model ${decl.model} cannot be unit tested`,
      );
      continue;
    }
    let ok = true;
    const problem = (code: 'UNKNOWN_REF' | 'UNKNOWN_SOURCE' | 'CONFIG_ERROR', message: string) => {
      ok = false;
      report.error(code, `unit test ${decl.name}: ${message}`);
    };
    const inputs = resolveInputs(decl, model, linker, problem);
    const givenThis = inputs.some((i) => i.input === 'this');
    const incrementalModel = model.config.materialized === 'incremental';
    const override = decl.overrides.macros.is_incremental;
    const isIncremental = typeof override === 'boolean' ? override : incrementalModel && givenThis;
    const missing = new Set<string>();
    let sql: string;
    let shapeSql: string | undefined;
    try {
      sql = renderForTest(ctx, decl, model, inputs, isIncremental, missing);
      if (isIncremental && givenThis) shapeSql = renderForTest(ctx, decl, model, inputs, false, missing);
    } catch (error) {
      const p = templateProblem(error, model.src.file ?? model.src.name, model.src.rawSql);
      report.error('TEMPLATE_ERROR', `unit test ${decl.name}: ${p.message}`, p.line);
      continue;
    }
    if (isIncremental && incrementalModel && !givenThis)
      problem(
        'CONFIG_ERROR',
        'is_incremental() is true: give `this` (the rows the table holds before the run)',
      );
    for (const input of missing)
      problem('CONFIG_ERROR', `model ${decl.model} reads ${input}, which has no given input`);
    if (!ok) continue;
    const spec: UnitTestSpec = {
      name: decl.name,
      uniqueId: `unit_test.${ctx.projectName}.${decl.model}.${decl.name}`,
      file: decl.file,
      model: {
        name: model.src.name,
        uniqueId: model.uniqueId,
        materialized: model.config.materialized,
        incrementalStrategy: model.config.incrementalStrategy,
        ...(model.config.uniqueKey ? { uniqueKey: model.config.uniqueKey } : {}),
      },
      inputs,
      sql,
      ...(shapeSql ? { shapeSql } : {}),
      expect: decl.expect,
      applyToThis: incrementalModel && isIncremental && givenThis,
    };
    out.push({
      uniqueId: spec.uniqueId as string,
      name: decl.name,
      resourceType: 'unit_test',
      packageName: ctx.projectName,
      file: decl.file,
      fqn: [ctx.projectName, decl.model, decl.name],
      tags: decl.tags,
      dependsOn: [model.uniqueId],
      ...(decl.description ? { description: decl.description } : {}),
      attachedNode: model.uniqueId,
      spec,
    });
  }
  return out;
}
