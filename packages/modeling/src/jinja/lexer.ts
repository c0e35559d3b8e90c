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

// Character codes the scanner compares against.
const NL = 10;
const CR = 13;
const TAB = 9;
const SPACE = 32;
const HASH = 35; // #
const PERCENT = 37; // %
const QUOTE = 39; // '
const DQUOTE = 34; // "
const PLUS = 43; // +
const MINUS = 45; // -
const DOT = 46; // .
const SLASH = 47; // /
const STAR = 42; // *
const EQ = 61; // =
const BANG = 33; // !
const LT = 60; // <
const GT = 62; // >
const LBRACE = 123; // {
const RBRACE = 125; // }
const BACKSLASH = 92;
const UNDERSCORE = 95;
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** The one-character operators, by character code: `+ - / * % ~ [ ] ( ) { } < > = . : | , ;`. */
const SINGLE_OPS = new Set([...'+-/*%~[](){}<>=.:|,;'].map((c) => c.charCodeAt(0)));

const isDigit = (c: number) => c >= DIGIT_0 && c <= DIGIT_9;

/** ASCII classes by character code: one table read per character (no calls in the hot loops). */
const NAME_START = 1;
const NAME_CHAR = 2;
const CLASSES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === UNDERSCORE;
  CLASSES[c] = (letter ? NAME_START | NAME_CHAR : 0) | (isDigit(c) ? NAME_CHAR : 0);
}

/**
 * Python's `\s` (what Jinja2's lexer skips inside tags) beyond space, tab and line ends: form feed,
 * vertical tab, the \x1c–\x1f separators, NEL and Unicode spaces such as U+2029, which editors
 * leave in public projects. JavaScript's `\s` lacks NEL and the separators and adds U+FEFF.
 */
function isOtherPyWhitespace(c: number): boolean {
  if (c < SPACE) return c === 0x0c || c === 0x0b || c >= 0x1c;
  return c === 0x85 || (c !== 0xfeff && isSpace(c));
}

/** JavaScript's `\s` (what Jinja2's whitespace control strips): ASCII and Unicode spaces and line ends. */
function isSpace(c: number): boolean {
  if (c <= SPACE) return c === SPACE || (c >= TAB && c <= CR);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function unescapeString(body: string): string {
  if (!body.includes('\\')) return body;
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
 *
 * One pass over the text with `charCodeAt` (no regular expression per token: lexing is most of a
 * cold compile's parse time).
 *
 * @example
 * tokenize('a {{- x }}', 'm.sql').map((t) => t.kind); // ['data', 'var_begin', 'name', 'var_end', 'eof']
 */
export function tokenize(source: string, file: string): Token[] {
  return new Lexer(source, file).run();
}

/** The scanner's state: the text, where it is, the current line. */
class Lexer {
  private readonly src: string;
  private pos = 0;
  private line = 1;
  /** The previous tag ended with `-`: strip the whitespace that starts the next data. */
  private lstripNext = false;
  private readonly tokens: Token[] = [];

  constructor(
    source: string,
    private readonly file: string,
  ) {
    let src = source.includes('\r') ? source.replace(/\r\n?/g, '\n') : source;
    if (src.charCodeAt(src.length - 1) === NL) src = src.slice(0, -1);
    this.src = src;
  }

  run(): Token[] {
    const { src } = this;
    while (this.pos < src.length) {
      const next = findTagStart(src, this.pos);
      if (next < 0) {
        this.pushData(this.pos, src.length, false);
        break;
      }
      const kind = src.charCodeAt(next + 1);
      const mark = src.charCodeAt(next + 2);
      this.pushData(this.pos, next, mark === MINUS);
      if (kind === HASH) this.comment(next);
      else if (kind === PERCENT && this.raw(next)) continue;
      else this.tag(next, kind === LBRACE, mark === MINUS || mark === PLUS ? 3 : 2);
    }
    this.tokens.push({ kind: 'eof', value: '', line: this.line });
    return this.tokens;
  }

  private fail(message: string, line = this.line): never {
    throw new TemplateSyntaxError(message, this.file, line);
  }

  /** Counts the line ends in `src[from, to)`. */
  private countLines(from: number, to: number): void {
    const { src } = this;
    for (let i = src.indexOf('\n', from); i >= 0 && i < to; i = src.indexOf('\n', i + 1)) this.line++;
  }

  /** `src[from, to)` as a data token, after the whitespace control of the tags around it. */
  private pushData(from: number, to: number, stripRight: boolean): void {
    const { src } = this;
    let start = from;
    if (this.lstripNext) {
      while (start < to && isSpace(src.charCodeAt(start))) start++;
      this.countLines(from, start);
      this.lstripNext = false;
    }
    const line = this.line;
    this.countLines(start, to);
    let end = to;
    if (stripRight) while (end > start && isSpace(src.charCodeAt(end - 1))) end--;
    if (end > start) this.tokens.push({ kind: 'data', value: src.slice(start, end), line });
  }

  /** `{# … #}` starting at `at`. */
  private comment(at: number): void {
    const end = this.src.indexOf('#}', at + 2);
    if (end < 0) this.fail('missing end of comment tag');
    this.countLines(at, end);
    this.lstripNext = this.src.charCodeAt(end - 1) === MINUS;
    this.pos = end + 2;
  }

  /** `{% raw %}…{% endraw %}` starting at `at`: its body as data. False when the tag is another one. */
  private raw(at: number): boolean {
    const { src } = this;
    const begin = rawTagEnd(src, at, 'raw');
    if (!begin) return false;
    let end: { to: number; stripLeft: boolean; stripRight: boolean } | undefined;
    for (let i = src.indexOf('{%', begin.to); i >= 0; i = src.indexOf('{%', i + 2)) {
      end = rawTagEnd(src, i, 'endraw');
      if (end) {
        this.lstripNext = begin.stripRight;
        this.countLines(at, begin.to);
        this.pushData(begin.to, i, end.stripLeft);
        this.countLines(i, end.to);
        this.lstripNext = end.stripRight;
        this.pos = end.to;
        return true;
      }
    }
    return this.fail("missing end of raw directive ('endraw')");
  }

  /** `{{ … }}` / `{% … %}` whose delimiter starts at `at` (`open` characters long, with its `-` / `+`). */
  private tag(at: number, isVar: boolean, open: number): void {
    this.tokens.push({ kind: isVar ? 'var_begin' : 'block_begin', value: '', line: this.line });
    this.pos = at + open;
    this.lexTagBody(isVar ? RBRACE : PERCENT);
    this.tokens.push({ kind: isVar ? 'var_end' : 'block_end', value: '', line: this.line });
  }

  /** The inside of a tag up to its closing delimiter (`first` then `}`), which it consumes. */
  private lexTagBody(first: number): void {
    const { src, tokens } = this;
    const length = src.length;
    let pos = this.pos;
    let depth = 0;
    while (pos < length) {
      const c = src.charCodeAt(pos);
      if (c === SPACE || c === TAB || c === NL || c === CR || isOtherPyWhitespace(c)) {
        if (c === NL) this.line++;
        pos++;
        continue;
      }
      if (depth === 0) {
        if (c === first && src.charCodeAt(pos + 1) === RBRACE) {
          this.pos = pos + 2;
          this.lstripNext = false;
          return;
        }
        if (
          (c === MINUS || c === PLUS) &&
          src.charCodeAt(pos + 1) === first &&
          src.charCodeAt(pos + 2) === RBRACE
        ) {
          this.pos = pos + 3;
          this.lstripNext = c === MINUS;
          return;
        }
      }
      const line = this.line;
      if (c < 128 && (CLASSES[c] as number) & NAME_START) {
        let end = pos + 1;
        for (; end < length; end++) {
          const d = src.charCodeAt(end);
          if (d >= 128 || ((CLASSES[d] as number) & NAME_CHAR) === 0) break;
        }
        tokens.push({ kind: 'name', value: src.slice(pos, end), line });
        pos = end;
      } else if (c === QUOTE || c === DQUOTE) {
        pos = this.string(pos, c);
      } else if (isDigit(c)) {
        pos = this.number(pos);
      } else {
        const op = operatorAt(src, pos, c);
        if (op === undefined) this.fail(`unexpected char '${src[pos]}'`);
        if (op === '(' || op === '[' || op === '{') depth++;
        else if (op === ')' || op === ']' || op === '}') {
          if (depth === 0) this.fail(`unexpected '${op}'`);
          depth--;
        }
        tokens.push({ kind: 'op', value: op, line });
        pos += op.length;
      }
    }
    this.pos = pos;
    this.fail(`unexpected end of template, expected '${String.fromCharCode(first)}}'`);
  }

  /** A quoted string starting at `start`; returns the position after its closing quote. */
  private string(start: number, quote: number): number {
    const { src } = this;
    let i = start + 1;
    for (;;) {
      if (i >= src.length) this.fail('unexpected end of string');
      const c = src.charCodeAt(i);
      if (c === quote) break;
      i += c === BACKSLASH ? 2 : 1;
    }
    const line = this.line;
    this.tokens.push({ kind: 'string', value: unescapeString(src.slice(start + 1, i)), line });
    this.countLines(start, i);
    return i + 1;
  }

  /** An int or float (`1_000`, `1.5`, `2e3`, `1.5E-3`) starting at `start`; returns the position after it. */
  private number(start: number): number {
    const { src } = this;
    let end = digitsEnd(src, start);
    let isFloat = false;
    if (src.charCodeAt(end) === DOT && isDigit(src.charCodeAt(end + 1))) {
      end = digitsEnd(src, end + 1);
      isFloat = true;
    }
    const exponent = exponentEnd(src, end);
    if (exponent > end) {
      end = exponent;
      isFloat = true;
    }
    const text = src.slice(start, end);
    this.tokens.push({
      kind: isFloat ? 'float' : 'int',
      value: text.includes('_') ? text.replaceAll('_', '') : text,
      line: this.line,
    });
    return end;
  }
}

/** The next `{{`, `{%` or `{#` at or after `from`; -1 when there is none. */
function findTagStart(src: string, from: number): number {
  let i = src.indexOf('{', from);
  while (i >= 0) {
    const c = src.charCodeAt(i + 1);
    if (c === LBRACE || c === PERCENT || c === HASH) return i;
    i = src.indexOf('{', i + 1);
  }
  return -1;
}

/**
 * `{%[-+]? <word> [-+]?%}` at `at` (Jinja2's raw / endraw tags): where it ends and its whitespace
 * control; undefined when the tag there is not that word alone.
 */
function rawTagEnd(
  src: string,
  at: number,
  word: string,
): { to: number; stripLeft: boolean; stripRight: boolean } | undefined {
  let i = at + 2;
  const left = src.charCodeAt(i);
  if (left === MINUS || left === PLUS) i++;
  while (isSpace(src.charCodeAt(i))) i++;
  if (!src.startsWith(word, i)) return undefined;
  i += word.length;
  while (isSpace(src.charCodeAt(i))) i++;
  const right = src.charCodeAt(i);
  if (right === MINUS || right === PLUS) i++;
  if (src.charCodeAt(i) !== PERCENT || src.charCodeAt(i + 1) !== RBRACE) return undefined;
  return { to: i + 2, stripLeft: left === MINUS, stripRight: right === MINUS };
}

/** The end of `\d(?:_?\d)*` starting at a digit at `start`. */
function digitsEnd(src: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = src.charCodeAt(i);
    if (isDigit(c)) i++;
    else if (c === UNDERSCORE && isDigit(src.charCodeAt(i + 1))) i += 2;
    else return i;
  }
}

/** The end of an exponent `[eE][+-]?\d(?:_?\d)*` at `at`, or `at` when there is none. */
function exponentEnd(src: string, at: number): number {
  const e = src.charCodeAt(at);
  if (e !== 101 && e !== 69) return at;
  let i = at + 1;
  const sign = src.charCodeAt(i);
  if (sign === PLUS || sign === MINUS) i++;
  return isDigit(src.charCodeAt(i)) ? digitsEnd(src, i) : at;
}

/** The operator at `pos` (two-character ones first: `//`, `**`, `==`, `!=`, `<=`, `>=`). */
function operatorAt(src: string, pos: number, c: number): string | undefined {
  const d = src.charCodeAt(pos + 1);
  if ((c === SLASH && d === SLASH) || (c === STAR && d === STAR)) return src.slice(pos, pos + 2);
  if (d === EQ && (c === EQ || c === BANG || c === LT || c === GT)) return src.slice(pos, pos + 2);
  return SINGLE_OPS.has(c) ? src[pos] : undefined;
}
