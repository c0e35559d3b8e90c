import { describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from '../src/jinja/errors.js';
import { pyJsonDumps, pyJsonLoads } from '../src/jinja/json.js';
import { tokenize } from '../src/jinja/lexer.js';
import { parseTemplate } from '../src/jinja/parser.js';
import {
  floatRepr,
  PyFloat,
  pyCompare,
  pyEquals,
  pyRepr,
  pyStr,
  truthy,
  tuple,
} from '../src/jinja/values.js';

describe('lexer', () => {
  it('splits data and tags with their lines, applying whitespace control and raw', () => {
    const tokens = tokenize("a  {%- if x -%}\n  b\n{{ 'c' }}{# n #}{% raw %}{{ d }}{% endraw %}\n", 't.sql');
    expect(tokens.map((t) => [t.kind, t.value, t.line])).toEqual([
      ['data', 'a', 1],
      ['block_begin', '', 1],
      ['name', 'if', 1],
      ['name', 'x', 1],
      ['block_end', '', 1],
      ['data', 'b\n', 2],
      ['var_begin', '', 3],
      ['string', 'c', 3],
      ['var_end', '', 3],
      ['data', '{{ d }}', 3],
      ['eof', '', 3],
    ]);
  });

  it('keeps nested braces inside an expression and ends at the tag outside a string', () => {
    const tokens = tokenize("{{ {'a': {'b': '}}'}} }}", 't.sql');
    expect(tokens.filter((t) => t.kind === 'op').map((t) => t.value)).toEqual(['{', ':', '{', ':', '}', '}']);
    expect(tokens.filter((t) => t.kind === 'string').map((t) => t.value)).toEqual(['a', 'b', '}}']);
  });

  it('reads numbers as Python does', () => {
    const tokens = tokenize('{{ 1_000 + 2.5e3 + 3 }}', 't.sql').filter(
      (t) => t.kind === 'int' || t.kind === 'float',
    );
    expect(tokens.map((t) => [t.kind, t.value])).toEqual([
      ['int', '1000'],
      ['float', '2.5e3'],
      ['int', '3'],
    ]);
  });
});

describe('parser', () => {
  it('builds filters, tests, slices and calls with Jinja2 precedence', () => {
    const [stmt] = parseTemplate('{{ -x | abs is not none and a.b[1:] | join(sep=",") }}', 't.sql');
    expect(stmt).toMatchObject({
      kind: 'print',
      expr: {
        kind: 'binary',
        op: 'and',
        left: {
          kind: 'test',
          name: 'none',
          negated: true,
          node: {
            kind: 'filter',
            name: 'abs',
            node: { kind: 'unary', op: '-', node: { kind: 'name', name: 'x' } },
          },
        },
        right: {
          kind: 'filter',
          name: 'join',
          kwargs: [['sep', { kind: 'const', value: ',' }]],
          node: { kind: 'getitem', key: { kind: 'slice', start: { kind: 'const', value: 1 } } },
        },
      },
    });
  });

  it('reads float literals as floats even when integral', () => {
    const [stmt] = parseTemplate('{{ 2.0 }}', 't.sql');
    expect(stmt).toMatchObject({ expr: { kind: 'const', value: new PyFloat(2) } });
  });

  it.each([
    ['select 1\n{% if x %}\nno end', "unexpected end of template, expected 'elif' or 'else' or 'endif'", 3],
    ['a\n{% frobnicate %}', "unknown tag 'frobnicate'", 2],
    ['{{ 1 + }}', "unexpected 'end of print statement'", 1],
    ['x\n\n{{ foo( }}', "unexpected '}'", 3],
  ])('reports a syntax error in %j with its line', (source, message, line) => {
    try {
      parseTemplate(source, 'models/x.sql');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateSyntaxError);
      expect([
        (e as TemplateSyntaxError).message,
        (e as TemplateSyntaxError).line,
        (e as TemplateSyntaxError).file,
      ]).toEqual([message, line, 'models/x.sql']);
    }
  });
});

describe('Python values', () => {
  it.each([
    [1, '1.0'],
    [0.1, '0.1'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-2.5, '-2.5'],
    [1 / 3, '0.3333333333333333'],
    [Number.POSITIVE_INFINITY, 'inf'],
  ])('floatRepr(%d) is %s', (n, text) => {
    expect(floatRepr(n)).toBe(text);
  });

  it('prints and compares like Python', () => {
    const m = new Map<unknown, unknown>([
      ['a', [1, new PyFloat(2), null, true]],
      [3, tuple("it's")],
    ]);
    expect(pyStr(m)).toBe(`{'a': [1, 2.0, None, True], 3: ("it's",)}`);
    expect(pyRepr('a\nb')).toBe("'a\\nb'");
    expect([
      pyEquals(1, new PyFloat(1)),
      pyEquals(true, 1),
      pyEquals([1, [2]], [1, [2]]),
      pyEquals(tuple(1), [1]),
    ]).toEqual([true, true, true, false]);
    expect([pyCompare([1, 2], [1, 3]) < 0, pyCompare('b', 'a') > 0]).toEqual([true, true]);
    expect(() => pyCompare(1, 'a')).toThrow("'<' not supported between instances of 'int' and 'str'");
    expect([truthy(new Map()), truthy({}), truthy(new PyFloat(0)), truthy('0'), truthy([0])]).toEqual([
      false,
      false,
      false,
      true,
      true,
    ]);
  });

  it('json.dumps / json.loads', () => {
    expect(
      pyJsonDumps(
        new Map<unknown, unknown>([
          ['b', 1],
          ['a', 'é'],
        ]),
        { sortKeys: true },
      ),
    ).toBe('{"a": "\\u00e9", "b": 1}');
    expect(pyJsonDumps([1, { x: null }], { indent: 2 })).toBe('[\n  1,\n  {\n    "x": null\n  }\n]');
    const loaded = pyJsonLoads('{"z": 1, "a": [true]}');
    expect(loaded).toBeInstanceOf(Map);
    expect([...(loaded as Map<string, unknown>).keys()]).toEqual(['z', 'a']);
  });
});
