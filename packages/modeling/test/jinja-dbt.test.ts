import { describe, expect, it } from 'vitest';
import { createDbtContext, DBT_FILTERS, nativeValue } from '../src/jinja/dbt-context.js';
import { Environment } from '../src/jinja/environment.js';
import { TemplateError } from '../src/jinja/errors.js';
import { tuple } from '../src/jinja/values.js';
import { JinjaEnvironment } from '../src/jinja.js';

const FIXED_NOW = Date.UTC(2024, 2, 15, 13, 45, 30, 250);

function render(source: string, options: Partial<Parameters<typeof createDbtContext>[0]> = {}) {
  const env = new Environment();
  for (const [name, filter] of Object.entries(DBT_FILTERS)) env.filters.set(name, filter);
  const ctx = createDbtContext({
    target: { schema: 'analytics' },
    now: () => FIXED_NOW,
    env: {},
    ...options,
  });
  return env.renderString(source, 'models/m.sql', ctx);
}

describe('dbt context: vars, env_var, target, return, exceptions', () => {
  it('reads project and --vars values, and defaults', () => {
    expect(
      render("{{ var('days') * 2 }} {{ var('missing', 'dflt') }} {{ var('cols') }}", {
        vars: { days: 3, cols: ['a'] },
      }),
    ).toBe("6 dflt ['a']");
  });

  it('fails on a required var with the var name, at its line', () => {
    const err = (() => {
      try {
        render("select 1\n{{ var('nope') }}");
      } catch (e) {
        return e;
      }
    })() as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.message).toBe("required var 'nope' not found in project vars or --vars");
    expect([err.file, err.line, err.code]).toEqual(['models/m.sql', 2, 'COMPILER_ERROR']);
  });

  it('hands DBT_ENV_SECRET_ values to the redactor and reads other variables as text', () => {
    const secrets: string[] = [];
    const out = render(
      "{{ env_var('DBT_ENV_SECRET_KEY') | length }} {{ env_var('REGION') }} {{ env_var('NOPE', 'x') }}",
      {
        env: { DBT_ENV_SECRET_KEY: 's3cr3t', REGION: 'eu' },
        redact: (s) => secrets.push(s),
      },
    );
    expect(out).toBe('6 eu x');
    expect(secrets).toEqual(['s3cr3t']);
    expect(() => render("{{ env_var('UNSET') }}")).toThrow("Env var required but not provided: 'UNSET'");
  });

  it('exposes target with dbt defaults', () => {
    expect(render('{{ target.schema }} {{ target.type }} {{ target.name }}')).toBe(
      'analytics postgres default',
    );
  });

  it('return() ends a macro with a value of any type', () => {
    const src =
      "{% macro cols() %}ignored{{ return(['a', 'b']) }}{% endmacro %}{% set c = cols() %}{{ c | length }} {{ c }}";
    expect(render(src)).toBe("2 ['a', 'b']");
  });

  it('return() from inside loops, ifs, call blocks and expressions stops the macro there, and only that macro', () => {
    const src = [
      '{% macro first_big(xs) %}{% for x in xs %}{% if x > 2 %}{% do return(x) %}{% endif %}{% endfor %}none{% endmacro %}',
      '{% macro nested() %}a{% set v = first_big([1, 5, 9]) %}{{ return([v, first_big([0])]) }}b{% endmacro %}',
      '{% macro in_expr() %}{{ "x" ~ return(7) }}after{% endmacro %}',
      '{% macro wrap() %}<{{ caller() }}>{% endmacro %}',
      '{% macro via_caller() %}{% call wrap() %}{{ return(3) }}late{% endcall %}{% endmacro %}',
      "{{ nested() }} {{ in_expr() }} {{ via_caller() }} {% set return = 'shadow' %}{{ return }}",
    ].join('');
    expect(render(src)).toBe("[5, 'none'] 7 <3> shadow");
  });

  it('raise_compiler_error fails with the message; warn and log reach the logger', () => {
    const logged: string[] = [];
    expect(
      render("{% do exceptions.warn('careful') %}{{ log('hi', info=True) }}x", {
        log: (m, l) => logged.push(`${l}:${m}`),
      }),
    ).toBe('x');
    expect(logged).toEqual(['warn:careful', 'info:hi']);
    expect(() => render("{{ exceptions.raise_compiler_error('bad config') }}")).toThrow('bad config');
  });

  it('json, yaml, zip, set, local_md5', () => {
    expect(render("{{ tojson({'b': 1, 'a': [true, none]}) }}")).toBe('{"b": 1, "a": [true, null]}');
    expect(render('{{ fromjson(\'{"x": [1, 2.5]}\').x }}')).toBe('[1, 2.5]');
    expect(render("{{ fromyaml('a: 1\\nb: [x, y]').b }}")).toBe("['x', 'y']");
    expect(render("{{ toyaml({'a': [1, 2]}) }}")).toBe('a:\n- 1\n- 2\n');
    expect(render('{{ zip([1, 2], ["a", "b"]) | list }}')).toBe("[(1, 'a'), (2, 'b')]");
    expect(render('{{ set([1, 1, 2]) | length }}')).toBe('2');
    expect(render("{{ local_md5('abc') }}")).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it('as_* filters give text in a text render; nativeValue reads it back like dbt', () => {
    expect(render("{{ 'True' | as_bool }} {{ 3 | as_number }} {{ none | as_text }}")).toBe('True 3 None');
    expect([nativeValue('False'), nativeValue('3'), nativeValue("['a', 'b']"), nativeValue('abc')]).toEqual([
      false,
      3,
      ['a', 'b'],
      'abc',
    ]);
  });
});

describe('dbt modules', () => {
  it('datetime: now, strptime, strftime, fromisoformat, timedelta arithmetic', () => {
    expect(render('{{ modules.datetime.datetime.utcnow() }}')).toBe('2024-03-15 13:45:30.250000');
    expect(
      render("{{ modules.datetime.datetime.strptime('2024-01-31', '%Y-%m-%d').strftime('%d/%m/%y %A') }}"),
    ).toBe('31/01/24 Wednesday');
    expect(
      render('{{ (modules.datetime.date(2024, 1, 31) + modules.datetime.timedelta(days=1)).isoformat() }}'),
    ).toBe('2024-02-01');
    expect(
      render(
        "{{ modules.datetime.datetime.fromisoformat('2024-01-01T10:00:00') - modules.datetime.datetime(2024, 1, 1) }}",
      ),
    ).toBe('10:00:00');
    expect(render('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }} {{ run_started_at.tzinfo }}')).toBe(
      '2024-03-15 13:45:30 UTC',
    );
  });

  it('pytz: converts run_started_at to a named zone', () => {
    expect(
      render("{{ run_started_at.astimezone(modules.pytz.timezone('America/New_York')).isoformat() }}"),
    ).toBe('2024-03-15T09:45:30.250000-04:00');
  });

  it('re: Python syntax for named groups, sub with backreferences, findall, split, escape', () => {
    expect(render("{{ modules.re.match('(?P<y>\\\\d{4})-(\\\\d+)', '2024-05x').group('y') }}")).toBe('2024');
    expect(render("{{ modules.re.search('b+', 'aabbbc').span() }} {{ modules.re.match('b', 'ab') }}")).toBe(
      '(2, 5) None',
    );
    expect(render("{{ modules.re.sub('(\\\\w+)@(\\\\w+)', '\\\\2 at \\\\1', 'me@host') }}")).toBe(
      'host at me',
    );
    expect(
      render(
        "{{ modules.re.findall('(\\\\w)=(\\\\d)', 'a=1 b=2') }} {{ modules.re.split(',\\\\s*', 'a, b,c') }}",
      ),
    ).toBe("[('a', '1'), ('b', '2')] ['a', 'b', 'c']");
    expect(
      render("{{ modules.re.compile('^select', modules.re.IGNORECASE).match('SELECT 1') is not none }}"),
    ).toBe('True');
    expect(render("{{ modules.re.escape('a.b*c') }}")).toBe('a\\.b\\*c');
  });

  it('itertools: chain, product, combinations, groupby', () => {
    expect(render('{{ modules.itertools.chain([1], [2, 3]) | list }}')).toBe('[1, 2, 3]');
    expect(render("{{ modules.itertools.product('ab', [1, 2]) | list }}")).toBe(
      "[('a', 1), ('a', 2), ('b', 1), ('b', 2)]",
    );
    expect(render('{{ modules.itertools.combinations([1, 2, 3], 2) | list }}')).toBe(
      '[(1, 2), (1, 3), (2, 3)]',
    );
  });
});

describe('template errors name the file and line', () => {
  it('syntax errors', () => {
    const env = new Environment();
    expect(() => env.renderString('select\n{% if x %}\n1', 'models/a.sql')).toThrow(TemplateError);
    try {
      env.renderString('select\n\n{{ 1 + }}', 'models/a.sql');
    } catch (e) {
      expect([(e as TemplateError).file, (e as TemplateError).line, (e as TemplateError).code]).toEqual([
        'models/a.sql',
        3,
        'TEMPLATE_SYNTAX',
      ]);
    }
  });

  it('an error inside a macro from another file is reported at the call, naming the macro file', () => {
    const env = new Environment();
    const module = env.module(env.parse('{% macro boom() %}\n{{ 1 / 0 }}{% endmacro %}', 'macros/boom.sql'));
    env.globals.set('boom', module.get('boom'));
    try {
      env.renderString('select\n{{ boom() }}', 'models/b.sql');
      expect.unreachable();
    } catch (e) {
      const err = e as TemplateError;
      expect([err.file, err.line]).toEqual(['models/b.sql', 2]);
      expect(err.message).toBe('division by zero (in macros/boom.sql:2)');
    }
  });
});

describe('statement, run_query and load_result', () => {
  const scope = {
    ref: (n: string) => n,
    source: (s: string, t: string) => `${s}.${t}`,
    config: () => {},
    var: () => null,
    thisRelation: '"analytics"."m"',
    isIncremental: false,
  };
  const template = [
    "{%- call statement('q', fetch_result=True) %}select 1{% endcall -%}",
    "{{ load_result('q') is none }} {{ run_query('select 2') is none }}",
  ].join('');

  it('run nothing and give None while parsing (execute false), as dbt', () => {
    expect(new JinjaEnvironment({ schema: 'analytics' }).render(template, 'm.sql', scope)).toBe('True True');
  });

  it('with execute true, pass the SQL to adapter.execute and keep the result for load_result', () => {
    const jinja = new JinjaEnvironment({ schema: 'analytics', execute: true });
    const executed: string[] = [];
    const adapter = jinja.env.globals.get('adapter') as Record<string, unknown>;
    adapter.execute = (sql: string) => {
      executed.push(sql);
      return tuple<unknown>('OK 1', { rows: [tuple(42)], columns: ['n'] });
    };
    const out = jinja.render(
      "{% set t = run_query('select 42 as n') %}{{ t.rows[0][0] }} {{ load_result('run_query_statement').response }}",
      'm.sql',
      scope,
    );
    expect(out).toBe('42 OK 1');
    expect(executed).toEqual(['select 42 as n']);
  });

  it('with execute true and no warehouse, fail naming the statement', () => {
    const jinja = new JinjaEnvironment({ schema: 'analytics', execute: true });
    expect(() => jinja.render(template, 'm.sql', scope)).toThrow(
      "statement 'q' needs a warehouse connection",
    );
  });
});

describe('Jinja in YAML values', () => {
  it('renders outside a model with the project vars and reads the value as dbt native rendering does', () => {
    const jinja = new JinjaEnvironment({ schema: 'analytics', vars: { on: false, n: 3 } });
    expect(nativeValue(jinja.renderText("{{ var('on') | as_bool }}", 'dbt_project.yml'))).toBe(false);
    expect(nativeValue(jinja.renderText("{{ var('n') + 1 }}", 'dbt_project.yml'))).toBe(4);
    expect(jinja.renderText('plain', 'dbt_project.yml')).toBe('plain');
    expect(() => jinja.renderText("{{ ref('x') }}", 'dbt_project.yml')).toThrow(
      'dbt context function called outside a model render',
    );
  });
});
