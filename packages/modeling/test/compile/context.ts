import { type CompileContext, createCompileContext } from '../../src/compile/context.js';
import { createDiagnosticSink } from '../../src/compile/diagnostics.js';
import type { ModelSource } from '../../src/compile/inputs.js';
import { JinjaEnvironment } from '../../src/jinja.js';

/** A compile context for phase tests: project `shop`, schema `a`. */
export function testContext(vars: Record<string, unknown> = {}): CompileContext {
  return createCompileContext({
    projectName: 'shop',
    targetSchema: 'a',
    vars,
    jinja: new JinjaEnvironment({ schema: 'a' }),
    diagnostics: createDiagnosticSink(),
  });
}

/** A dbt-style model source rendered by the context's Jinja environment. */
export function sqlModel(
  ctx: CompileContext,
  name: string,
  rawSql: string,
  substitutable = false,
): ModelSource {
  const file = `models/${name}.sql`;
  return {
    name,
    file,
    fqn: ['shop', name],
    rawSql,
    layers: [],
    inline: {},
    columns: {},
    tests: [],
    substitutable,
    render: (scope) => ctx.jinja.render(rawSql, file, scope),
  };
}
