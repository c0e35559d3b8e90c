import { TemplateSyntaxError } from './errors.js';

/** Token kinds of Jinja2's lexer that the parser needs. */
export type TokenKind =
  | 'data'
  | 'var_begin'
  | 'var_end'
  | 'block_begin'
  | 'block_end'
  | 'name'
  | 'string'
  | 'int'
  | 'float'
  | 'op'
  | 'eof';

export interface Token {
  kind: TokenKind;
  value: string;
  line: number;
}

const OPERATORS = [
  '//',
  '**',
  '==',
  '!=',
  '<=',
  '>=',
  '+',
  '-',
  '/',
  '*',
  '%',
  '~',
  '[',
  ']',
  '(',
  ')',
  '{',
  '}',
  '<',
  '>',
  '=',
  '.',
  ':',
  '|',
  ',',
  ';',
];
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const FLOAT = /(?:\d(?:_?\d)*\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?|\d(?:_?\d)*[eE][+-]?\d(?:_?\d)*)/y;
const INT = /\d(?:_?\d)*/y;
const STRING = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const RAW_BEGIN = /\{%([-+]?)\s*raw\s*([-+]?)%\}/y;
const RAW_END = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;
const LEADING_WS = /^\s*/;

function unescapeString(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/gs, (whole, c: string) => {
    switch (c[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case '\\':
        return '\\';
      case "'":
        return "'";
      case '"':
        return '"';
      case '0':
        return '\0';
      case '\n':
        return '';
      case 'x':
      case 'u':
      case 'U':
        return c.length > 1 ? String.fromCodePoint(Number.parseInt(c.slice(1), 16)) : whole;
      default:
        return whole;
    }
  });
}

/**
 * Splits a template into Jinja2 tokens with the default delimiters, whitespace control (`-`),
 * `{% raw %}` and comments; strips one trailing newline as Jinja2 does by default.
 */
export function tokenize(source: string, file: string): Token[] {
  let src = source.replace(/\r\n?/g, '\n');
  if (src.endsWith('\n')) src = src.slice(0, -1);
  const tokens: Token[] = [];
  let pos = 0;
  let line = 1;
  let lstripNext = false;
  const lineAt = (text: string) => {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  };
  const pushData = (text: string, stripRight: boolean) => {
    let t = text;
    if (lstripNext) {
      const lead = LEADING_WS.exec(t)?.[0] ?? '';
      lineAt(lead);
      t = t.slice(lead.length);
      lstripNext = false;
    }
    const startLine = line;
    lineAt(t);
    if (stripRight) t = t.trimEnd();
    if (t) tokens.push({ kind: 'data', value: t, line: startLine });
  };
  while (pos < src.length) {
    const next = findTagStart(src, pos);
    if (next < 0) {
      pushData(src.slice(pos), false);
      break;
    }
    const kind = src[next + 1];
    const strip = src[next + 2] === '-';
    pushData(src.slice(pos, next), strip);
    if (kind === '#') {
      const end = src.indexOf('#}', next + 2);
      if (end < 0) throw new TemplateSyntaxError('missing end of comment tag', file, line);
      lineAt(src.slice(next, end));
      lstripNext = src[end - 1] === '-';
      pos = end + 2;
      continue;
    }
    if (kind === '%') {
      RAW_BEGIN.lastIndex = next;
      const rawBegin = RAW_BEGIN.exec(src);
      if (rawBegin) {
        const bodyStart = RAW_BEGIN.lastIndex;
        RAW_END.lastIndex = bodyStart;
        const endMatch = RAW_END.exec(src);
        if (!endMatch) throw new TemplateSyntaxError("missing end of raw directive ('endraw')", file, line);
        lstripNext = rawBegin[2] === '-';
        lineAt(rawBegin[0]);
        pushData(src.slice(bodyStart, endMatch.index), endMatch[1] === '-');
        lineAt(endMatch[0]);
        lstripNext = endMatch[2] === '-';
        pos = endMatch.index + endMatch[0].length;
        continue;
      }
    }
    const isVar = kind === '{';
    tokens.push({ kind: isVar ? 'var_begin' : 'block_begin', value: '', line });
    pos = next + (strip || src[next + 2] === '+' ? 3 : 2);
    const closed = lexTag(src, pos, isVar ? '}}' : '%}', file, tokens, lineAt, () => line);
    pos = closed.pos;
    lstripNext = closed.strip;
    tokens.push({ kind: isVar ? 'var_end' : 'block_end', value: '', line });
  }
  tokens.push({ kind: 'eof', value: '', line });
  return tokens;
}

/**
 * Python's `\s` (what Jinja2's lexer skips inside tags) beyond space, tab and line ends: form feed,
 * vertical tab, the \x1c–\x1f separators, NEL and Unicode spaces such as U+2029, which editors
 * leave in public projects. JavaScript's `\s` lacks NEL and the separators and adds U+FEFF.
 */
function isOtherPyWhitespace(c: string): boolean {
  if (c < ' ') return c === '\f' || c === '\v' || c >= '\x1c';
  return c >= '\x85' && c !== '\ufeff' && (c === '\x85' || /\s/.test(c));
}

function findTagStart(src: string, from: number): number {
  let i = src.indexOf('{', from);
  while (i >= 0) {
    const c = src[i + 1];
    if (c === '{' || c === '%' || c === '#') return i;
    i = src.indexOf('{', i + 1);
  }
  return -1;
}

/** Lexes the inside of `{{ … }}` / `{% … %}`; returns the position after the closing delimiter. */
function lexTag(
  src: string,
  start: number,
  end: string,
  file: string,
  tokens: Token[],
  lineAt: (text: string) => void,
  currentLine: () => number,
): { pos: number; strip: boolean } {
  let pos = start;
  let depth = 0;
  while (pos < src.length) {
    const c = src[pos] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || isOtherPyWhitespace(c)) {
      if (c === '\n') lineAt(c);
      pos++;
      continue;
    }
    if (depth === 0) {
      if (src.startsWith(end, pos)) return { pos: pos + 2, strip: false };
      if (c === '-' && src.startsWith(end, pos + 1)) return { pos: pos + 3, strip: true };
      if (c === '+' && src.startsWith(end, pos + 1)) return { pos: pos + 3, strip: false };
    }
    const line = currentLine();
    if (c === "'" || c === '"') {
      STRING.lastIndex = pos;
      const m = STRING.exec(src);
      if (!m) throw new TemplateSyntaxError('unexpected end of string', file, line);
      tokens.push({ kind: 'string', value: unescapeString(m[1] ?? m[2] ?? ''), line });
      lineAt(m[0]);
      pos = STRING.lastIndex;
      continue;
    }
    if (c >= '0' && c <= '9') {
      FLOAT.lastIndex = pos;
      const f = FLOAT.exec(src);
      if (f) {
        tokens.push({ kind: 'float', value: f[0].replaceAll('_', ''), line });
        pos = FLOAT.lastIndex;
        continue;
      }
      INT.lastIndex = pos;
      const i = INT.exec(src) as RegExpExecArray;
      tokens.push({ kind: 'int', value: i[0].replaceAll('_', ''), line });
      pos = INT.lastIndex;
      continue;
    }
    NAME.lastIndex = pos;
    const n = NAME.exec(src);
    if (n) {
      tokens.push({ kind: 'name', value: n[0], line });
      pos = NAME.lastIndex;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, pos));
    if (!op) throw new TemplateSyntaxError(`unexpected char '${c}'`, file, line);
    if (op === '(' || op === '[' || op === '{') depth++;
    else if (op === ')' || op === ']' || op === '}') {
      if (depth === 0) throw new TemplateSyntaxError(`unexpected '${op}'`, file, line);
      depth--;
    }
    tokens.push({ kind: 'op', value: op, line });
    pos += op.length;
  }
  throw new TemplateSyntaxError(`unexpected end of template, expected '${end}'`, file, currentLine());
}
