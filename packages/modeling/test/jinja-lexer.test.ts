import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from '../src/jinja/errors.js';
import { tokenize } from '../src/jinja/lexer.js';
import { parseTemplate } from '../src/jinja/parser.js';

const kinds = (source: string) => tokenize(source, 't.sql').map((t) => [t.kind, t.value, t.line]);
const dataOf = (source: string) =>
  tokenize(source, 't.sql')
    .filter((t) => t.kind === 'data')
    .map((t) => t.value);

function syntaxError(source: string): { message: string; line: number | undefined } {
  try {
    tokenize(source, 'bad.sql');
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    const e = error as TemplateSyntaxError;
    expect(e.file).toBe('bad.sql');
    return { message: e.message, line: e.line };
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(source)}`);
}

describe('lexer: whitespace control', () => {
  it('strips before `{%-` / `{{-` / `{#-` and after `-%}` / `-}}` / `-#}`, across lines', () => {
    expect(dataOf('a \n {%- if x -%} \n b \n {{- y -}} \n c {#- n -#}\n d')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps whitespace around `+` markers and plain delimiters', () => {
    expect(dataOf('a {%+ if x +%} b {% endif %} c')).toEqual(['a ', ' b ', ' c']);
  });

  it('strips Unicode spaces as Python does, and counts the stripped lines', () => {
    const tokens = tokenize('{{ x -}}\u00a0\n\u2003\n  y{{ z }}', 't.sql');
    expect(tokens.find((t) => t.kind === 'data')).toEqual({ kind: 'data', value: 'y', line: 3 });
    expect(tokens.filter((t) => t.kind === 'name').map((t) => t.line)).toEqual([1, 3]);
  });

  it('normalises CRLF and CR and drops one trailing newline only', () => {
    expect(dataOf('a\r\nb\rc\n\n')).toEqual(['a\nb\nc\n']);
    expect(kinds('{{ x }}\r\n\r\n{{ y }}').filter(([k]) => k === 'name')).toEqual([
      ['name', 'x', 1],
      ['name', 'y', 3],
    ]);
  });
});

describe('lexer: raw blocks and comments', () => {
  it('passes a raw body through untouched, with the whitespace control of both raw tags', () => {
    expect(dataOf('a {%- raw -%}  {{ x }} {% if %}  {%- endraw -%} b')).toEqual([
      'a',
      '{{ x }} {% if %}',
      'b',
    ]);
    expect(dataOf('{%raw%}{#{%endraw%}')).toEqual(['{#']);
  });

  it('is not fooled by a tag that only starts with raw, and counts lines inside raw', () => {
    expect(kinds('{% rawx %}')[1]).toEqual(['name', 'rawx', 1]);
    expect(kinds('{% raw %}\n\n{% endraw %}{{ x }}')).toEqual([
      ['data', '\n\n', 1],
      ['var_begin', '', 3],
      ['name', 'x', 3],
      ['var_end', '', 3],
      ['eof', '', 3],
    ]);
  });

  it('drops comments (even ones holding tags) and counts their lines', () => {
    expect(kinds('{# {{ x }} %}\n #}{{ y }}')).toEqual([
      ['var_begin', '', 2],
      ['name', 'y', 2],
      ['var_end', '', 2],
      ['eof', '', 2],
    ]);
  });
});

describe('lexer: strings, numbers, operators', () => {
  it('reads `%}` and `}}` inside strings as text, with escapes', () => {
    const strings = tokenize(`{% set a = '%}' ~ "}}" ~ 'it\\'s' ~ "\\x41\\u00e9\\n" %}`, 't.sql')
      .filter((t) => t.kind === 'string')
      .map((t) => t.value);
    expect(strings).toEqual(['%}', '}}', "it's", 'Aé\n']);
  });

  it('gives a string its first line and counts the lines inside it', () => {
    expect(kinds("{{ 'a\nb' ~ c }}").slice(1, 4)).toEqual([
      ['string', 'a\nb', 1],
      ['op', '~', 2],
      ['name', 'c', 2],
    ]);
  });

  it('reads numbers as Python does: underscores, exponents, no trailing-dot floats', () => {
    const numbers = (s: string) =>
      tokenize(`{{ ${s} }}`, 't.sql')
        .slice(1, -2)
        .map((t) => `${t.kind}:${t.value}`);
    expect(numbers('1_000')).toEqual(['int:1000']);
    expect(numbers('1__0')).toEqual(['int:1', 'name:__0']);
    expect(numbers('2.5e3')).toEqual(['float:2.5e3']);
    expect(numbers('2E+3')).toEqual(['float:2E+3']);
    expect(numbers('1.5e')).toEqual(['float:1.5', 'name:e']);
    expect(numbers('x.0')).toEqual(['name:x', 'op:.', 'int:0']);
  });

  it('prefers two-character operators', () => {
    const ops = tokenize('{{ a // b ** c == d != e <= f >= g < h > i }}', 't.sql')
      .filter((t) => t.kind === 'op')
      .map((t) => t.value);
    expect(ops).toEqual(['//', '**', '==', '!=', '<=', '>=', '<', '>']);
  });
});

describe('lexer: errors name the file and line', () => {
  it.each([
    ["a\n{{ 'open }}", 'unexpected end of string', 2],
    ['a\n\n{{ x ', "unexpected end of template, expected '}}'", 3],
    ['{% if x\n', "unexpected end of template, expected '%}'", 1],
    ['{# no end\n\n', 'missing end of comment tag', 1],
    ['\n{% raw %} x', "missing end of raw directive ('endraw')", 2],
    ['{{ a\n ! b }}', "unexpected char '!'", 2],
    ['{{ a ) }}', "unexpected ')'", 1],
  ])('%j: %s on line %i', (source, message, line) => {
    expect(syntaxError(source)).toEqual({ message, line });
  });
});

describe('parser: operands without operators take the short path to the same tree', () => {
  it('parses a lone filtered operand and a continued one as the precedence levels do', () => {
    const expr = (s: string) => (parseTemplate(`{{ ${s} }}`, 't.sql')[0] as { expr: unknown }).expr;
    expect(expr('a.b | upper')).toEqual({
      kind: 'filter',
      node: { kind: 'getattr', obj: { kind: 'name', name: 'a', line: 1 }, attr: 'b', line: 1 },
      name: 'upper',
      args: [],
      kwargs: [],
      line: 1,
    });
    expect(expr('f(x) ~ y')).toMatchObject({ kind: 'concat', items: [{ kind: 'call' }, { kind: 'name' }] });
    expect(expr('a not in b or c')).toMatchObject({
      kind: 'binary',
      op: 'or',
      left: { kind: 'compare', ops: [['notin', { name: 'b' }]] },
    });
    expect(expr('-x ** 2 * 3')).toMatchObject({
      kind: 'binary',
      op: '*',
      left: { kind: 'binary', op: '**', left: { kind: 'unary', op: '-' } },
    });
    expect(expr('not a and b')).toMatchObject({
      kind: 'binary',
      op: 'and',
      left: { kind: 'unary', op: 'not' },
    });
  });
});
