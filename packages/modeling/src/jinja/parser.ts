import type { CallArgs, Expr, MacroParam, Stmt, Target } from './ast.js';
import { TemplateSyntaxError } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { PyFloat } from './values.js';

/** Operators after which an expression is complete. */
const EXPRESSION_ENDS = new Set([',', ')', ']', '}', ':']);

/** The variable that holds a block's rendered body inside its filter chain. */
export const BODY_VAR = '\0body';

const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);
/** Operators that continue an expression after an operand (compare, arithmetic, `~`). */
const BINARY_OPS = new Set([...COMPARE_OPS, '+', '-', '~', '*', '/', '//', '%', '**']);
const TEST_ARG_START = new Set(['name', 'string', 'int', 'float']);

/** Template bodies parsed without any `{% block %}`: a render need not look for blocks in them. */
const WITHOUT_BLOCKS = new WeakSet<Stmt[]>();

/** Parses a Jinja2 template into statements (Jinja2's grammar and operator precedence). */
export function parseTemplate(source: string, file: string): Stmt[] {
  const parser = new Parser(tokenize(source, file), file);
  const body = parser.parseAll();
  if (!parser.sawNamedBlock) WITHOUT_BLOCKS.add(body);
  return body;
}

/**
 * Whether `body` is a whole template that {@link parseTemplate} found no `{% block %}` in (false
 * for other bodies: they may have some).
 */
export function parsedWithoutBlocks(body: Stmt[]): boolean {
  return WITHOUT_BLOCKS.has(body);
}

class Parser {
  private i = 0;
  /** Set once a `{% block %}` is parsed. */
  sawNamedBlock = false;
  constructor(
    private readonly tokens: Token[],
    private readonly file: string,
  ) {}

  parseAll(): Stmt[] {
    const body = this.subparse([]);
    if (this.peek().kind !== 'eof') this.fail(`unexpected '${this.peek().value}'`);
    return body;
  }

  /** The current token (`next` never moves past the final `eof`). */
  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  /** The token `offset` ahead (the final `eof` past the end). */
  private peekAt(offset: number): Token {
    return this.tokens[this.i + offset] ?? (this.tokens[this.tokens.length - 1] as Token);
  }
  private next(): Token {
    const t = this.tokens[this.i] as Token;
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private fail(message: string, line = this.peek().line): never {
    throw new TemplateSyntaxError(message, this.file, line);
  }
  private isOp(value: string): boolean {
    const t = this.tokens[this.i] as Token;
    return t.kind === 'op' && t.value === value;
  }
  private isName(value: string): boolean {
    const t = this.tokens[this.i] as Token;
    return t.kind === 'name' && t.value === value;
  }
  private isOpAt(value: string, offset: number): boolean {
    const t = this.peekAt(offset);
    return t.kind === 'op' && t.value === value;
  }
  private isNameAt(value: string, offset: number): boolean {
    const t = this.peekAt(offset);
    return t.kind === 'name' && t.value === value;
  }
  private skipOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.next();
    return true;
  }
  private skipName(value: string): boolean {
    if (!this.isName(value)) return false;
    this.next();
    return true;
  }
  private expectOp(value: string): Token {
    if (!this.isOp(value)) this.fail(`expected '${value}', got '${this.describe(this.peek())}'`);
    return this.next();
  }
  private expectName(value?: string): Token {
    const t = this.peek();
    if (t.kind !== 'name' || (value !== undefined && t.value !== value)) {
      this.fail(`expected ${value ? `'${value}'` : 'a name'}, got '${this.describe(t)}'`);
    }
    return this.next();
  }
  private expectBlockEnd(): void {
    // Jinja2 accepts a colon before the end of a block tag (`{% if x: %}`).
    if (this.isOp(':') && this.peekAt(1).kind === 'block_end') this.next();
    if (this.peek().kind !== 'block_end')
      this.fail(`expected end of statement block, got '${this.describe(this.peek())}'`);
    this.next();
  }
  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of template';
    if (t.kind === 'block_end') return 'end of statement block';
    if (t.kind === 'var_end') return 'end of print statement';
    return t.value;
  }

  /** Parses statements until `{% <one of ends> %}` (left unconsumed after the block_begin). */
  private subparse(ends: string[]): Stmt[] {
    const body: Stmt[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (ends.length) this.fail(`unexpected end of template, expected '${ends.join("' or '")}'`);
        return body;
      }
      if (t.kind === 'data') {
        body.push({ kind: 'data', text: t.value, line: t.line });
        this.next();
      } else if (t.kind === 'var_begin') {
        this.next();
        const expr = this.parseTuple(false);
        if (this.peek().kind !== 'var_end')
          this.fail(`expected end of print statement, got '${this.describe(this.peek())}'`);
        this.next();
        body.push({ kind: 'print', expr, line: t.line });
      } else if (t.kind === 'block_begin') {
        const name = this.peekAt(1);
        if (name.kind === 'name' && ends.includes(name.value)) {
          this.next();
          return body;
        }
        this.next();
        const stmt = this.parseStatement();
        if (stmt) body.push(stmt);
      } else {
        this.fail(`unexpected '${this.describe(t)}'`);
      }
    }
  }

  /** After `{% name … %}` body: consumes `{% endname %}`. */
  private endBlock(name: string): void {
    this.expectName(name);
    this.expectBlockEnd();
  }

  private parseStatement(): Stmt | undefined {
    const t = this.expectName();
    const line = t.line;
    switch (t.value) {
      case 'if':
        return this.parseIf(line);
      case 'for':
        return this.parseFor(line);
      case 'set':
        return this.parseSet(line);
      case 'macro':
        return this.parseMacro(line, this.expectName().value, 'endmacro');
      case 'test':
        return this.parseMacro(line, `test_${this.expectName().value}`, 'endtest');
      case 'materialization':
        return this.parseMaterialization(line);
      case 'call':
        return this.parseCallBlock(line);
      case 'filter':
        return this.parseFilterBlock(line);
      case 'with':
        return this.parseWith(line);
      case 'do': {
        const expr = this.parseTuple(false);
        this.expectBlockEnd();
        return { kind: 'do', expr, line };
      }
      case 'break':
      case 'continue':
        this.expectBlockEnd();
        return { kind: t.value, line };
      case 'include':
      case 'import':
      case 'from':
      case 'extends':
        return this.parseTemplateUse(t.value, line);
      case 'block':
        return this.parseNamedBlock(line);
      case 'snapshot': {
        this.expectName();
        this.expectBlockEnd();
        const body = this.subparse(['endsnapshot']);
        this.endBlock('endsnapshot');
        return { kind: 'block', body, line };
      }
      case 'docs': {
        while (this.peek().kind !== 'block_end') this.next();
        this.expectBlockEnd();
        this.subparse(['enddocs']);
        this.endBlock('enddocs');
        return undefined;
      }
      default:
        return this.fail(`unknown tag '${t.value}'`, line);
    }
  }

  /** `include` / `import … as` / `from … import` / `extends`: statements naming another template. */
  private parseTemplateUse(tag: 'include' | 'import' | 'from' | 'extends', line: number): Stmt {
    const template = this.parseExpression();
    if (tag === 'extends') {
      this.expectBlockEnd();
      return { kind: 'extends', template, line };
    }
    if (tag === 'include') {
      let ignoreMissing = false;
      if (this.isName('ignore') && this.isNameAt('missing', 1)) {
        this.next();
        this.next();
        ignoreMissing = true;
      }
      const withContext = this.parseContextModifier(true);
      this.expectBlockEnd();
      return { kind: 'include', template, ignoreMissing, withContext, line };
    }
    if (tag === 'import') {
      this.expectName('as');
      const target = this.expectName().value;
      const withContext = this.parseContextModifier(false);
      this.expectBlockEnd();
      return { kind: 'import', template, target, withContext, line };
    }
    this.expectName('import');
    const names: [string, string][] = [];
    do {
      if (this.atContextModifier() || this.peek().kind !== 'name') break;
      const name = this.expectName().value;
      if (name.startsWith('_')) this.fail('names starting with an underline can not be imported', line);
      names.push([name, this.skipName('as') ? this.expectName().value : name]);
    } while (this.skipOp(','));
    if (names.length === 0) this.fail('expected a name to import', line);
    const withContext = this.parseContextModifier(false);
    this.expectBlockEnd();
    return { kind: 'fromimport', template, names, withContext, line };
  }

  private atContextModifier(): boolean {
    return (this.isName('with') || this.isName('without')) && this.isNameAt('context', 1);
  }

  /** `with context` / `without context` after an include or import; `fallback` when absent. */
  private parseContextModifier(fallback: boolean): boolean {
    if (!this.atContextModifier()) return fallback;
    const withContext = this.next().value === 'with';
    this.next();
    return withContext;
  }

  /** `{% block name [scoped] %}…{% endblock [name] %}`. */
  private parseNamedBlock(line: number): Stmt {
    this.sawNamedBlock = true;
    const name = this.expectName().value;
    let scoped = false;
    while (this.peek().kind === 'name') {
      const modifier = this.expectName().value;
      if (modifier === 'scoped') scoped = true;
      else if (modifier !== 'required') this.fail(`unexpected '${modifier}' after block name`, line);
    }
    this.expectBlockEnd();
    const body = this.subparse(['endblock']);
    this.expectName('endblock');
    if (this.peek().kind === 'name') {
      const closing = this.expectName().value;
      if (closing !== name) this.fail(`block '${name}' closed by endblock '${closing}'`, line);
    }
    this.expectBlockEnd();
    return { kind: 'namedblock', name, body, scoped, line };
  }

  private parseIf(line: number): Stmt {
    const branches: [Expr, Stmt[]][] = [];
    let otherwise: Stmt[] | undefined;
    let test = this.parseTuple(false, true);
    for (;;) {
      this.expectBlockEnd();
      const body = this.subparse(['elif', 'else', 'endif']);
      branches.push([test, body]);
      const tag = this.next().value;
      if (tag === 'elif') {
        test = this.parseTuple(false, true);
        continue;
      }
      if (tag === 'else') {
        this.expectBlockEnd();
        otherwise = this.subparse(['endif']);
        this.endBlock('endif');
      } else {
        this.expectBlockEnd();
      }
      return { kind: 'if', branches, ...(otherwise ? { otherwise } : {}), line };
    }
  }

  private parseFor(line: number): Stmt {
    const target = this.parseAssignTarget(true);
    this.expectName('in');
    const iter = this.parseTuple(false, false, true);
    let filter: Expr | undefined;
    if (this.skipName('if')) filter = this.parseExpression();
    this.skipName('recursive');
    this.expectBlockEnd();
    const body = this.subparse(['endfor', 'else']);
    let otherwise: Stmt[] | undefined;
    if (this.next().value === 'else') {
      this.expectBlockEnd();
      otherwise = this.subparse(['endfor']);
      this.endBlock('endfor');
    } else {
      this.expectBlockEnd();
    }
    return {
      kind: 'for',
      target,
      iter,
      body,
      ...(otherwise ? { otherwise } : {}),
      ...(filter ? { filter } : {}),
      line,
    };
  }

  private parseSet(line: number): Stmt {
    const target = this.parseAssignTarget(true);
    if (this.skipOp('=')) {
      const value = this.parseTuple(false);
      this.expectBlockEnd();
      return { kind: 'set', target, value, line };
    }
    const filters = this.parseFilterChain();
    this.expectBlockEnd();
    const body = this.subparse(['endset']);
    this.endBlock('endset');
    return { kind: 'setblock', target, body, filters, line };
  }

  /** `| f | g(…)` after a block tag: one chained filter expression over the block body. */
  private parseFilterChain(): Expr[] {
    if (!this.skipOp('|')) return [];
    let chain = this.parseFilter(undefined);
    while (this.skipOp('|')) chain = this.parseFilter(chain);
    return [chain];
  }

  private parseMacro(line: number, name: string, end: string): Stmt {
    const params = this.parseSignature();
    this.expectBlockEnd();
    const body = this.subparse([end]);
    this.endBlock(end);
    return { kind: 'macro', name, params, body, line };
  }

  private parseMaterialization(line: number): Stmt {
    const name = this.expectName().value;
    let adapter = 'default';
    while (this.skipOp(',')) {
      const key = this.expectName().value;
      if (!this.skipOp('=')) {
        adapter = key;
        continue;
      }
      const value = this.parseExpression();
      if (key === 'adapter' && value.kind === 'const') adapter = String(value.value);
    }
    this.expectBlockEnd();
    const body = this.subparse(['endmaterialization']);
    this.endBlock('endmaterialization');
    return { kind: 'macro', name: `materialization_${name}_${adapter}`, params: [], body, line };
  }

  private parseSignature(): MacroParam[] {
    const params: MacroParam[] = [];
    this.expectOp('(');
    while (!this.isOp(')')) {
      if (params.length) this.expectOp(',');
      if (this.isOp(')')) break;
      const name = this.expectName().value;
      params.push(this.skipOp('=') ? { name, default: this.parseExpression() } : { name });
    }
    this.expectOp(')');
    return params;
  }

  private parseCallBlock(line: number): Stmt {
    const params = this.isOp('(') ? this.parseSignature() : [];
    const call = this.parseExpression();
    if (call.kind !== 'call') this.fail('expected call', line);
    this.expectBlockEnd();
    const body = this.subparse(['endcall']);
    this.endBlock('endcall');
    return { kind: 'callblock', call, params, body, line };
  }

  private parseFilterBlock(line: number): Stmt {
    let chain = this.parseFilter(undefined);
    while (this.skipOp('|')) chain = this.parseFilter(chain);
    const filters = [chain];
    this.expectBlockEnd();
    const body = this.subparse(['endfilter']);
    this.endBlock('endfilter');
    return { kind: 'filterblock', filters, body, line };
  }

  private parseWith(line: number): Stmt {
    const assignments: [Target, Expr][] = [];
    while (this.peek().kind !== 'block_end') {
      if (assignments.length) this.expectOp(',');
      const target = this.parseAssignTarget(false);
      this.expectOp('=');
      assignments.push([target, this.parseExpression()]);
    }
    this.expectBlockEnd();
    const body = this.subparse(['endwith']);
    this.endBlock('endwith');
    return { kind: 'with', assignments, body, line };
  }

  private parseAssignTarget(allowTuple: boolean): Target {
    const first = this.parseOneTarget();
    if (!allowTuple || !this.isOp(',')) return first;
    const items = [first];
    while (this.skipOp(',')) {
      if (!(this.peek().kind === 'name' || this.isOp('('))) break;
      items.push(this.parseOneTarget());
    }
    return { kind: 'tuple', items };
  }

  private parseOneTarget(): Target {
    if (this.skipOp('(')) {
      const inner = this.parseAssignTarget(true);
      this.expectOp(')');
      return inner;
    }
    const name = this.expectName().value;
    if (this.skipOp('.')) return { kind: 'nsattr', name, attr: this.expectName().value };
    return { kind: 'name', name };
  }

  /** Jinja2's parse_tuple: `a, b` is a tuple; `(a)` is not. */
  private parseTuple(simplified: boolean, withCondexpr = true, explicitOnly = false): Expr {
    const line = this.peek().line;
    const items: Expr[] = [];
    let trailingComma = false;
    for (;;) {
      if (items.length) {
        if (!this.isOp(',')) break;
        this.next();
        trailingComma = true;
      }
      if (this.tupleEnds()) break;
      items.push(simplified ? this.parsePrimary() : withCondexpr ? this.parseExpression() : this.parseOr());
      trailingComma = false;
      if (explicitOnly && !this.isOp(',')) break;
    }
    if (items.length === 0) {
      if (this.isOp(')')) return { kind: 'tuple', items, line };
      this.fail(`expected an expression, got '${this.describe(this.peek())}'`);
    }
    if (items.length === 1 && !trailingComma) return items[0] as Expr;
    return { kind: 'tuple', items, line };
  }

  private tupleEnds(): boolean {
    const t = this.peek();
    if (t.kind === 'var_end' || t.kind === 'block_end' || t.kind === 'eof') return true;
    if (t.kind === 'op' && (t.value === ')' || t.value === ']' || t.value === '}' || t.value === '='))
      return true;
    return t.kind === 'name' && (t.value === 'in' || t.value === 'recursive' || t.value === 'if');
  }

  parseExpression(): Expr {
    const atom = this.loneAtom();
    if (atom) return atom;
    const line = this.peek().line;
    let expr = this.parseOr();
    while (this.skipName('if')) {
      const test = this.parseOr();
      const otherwise = this.skipName('else') ? this.parseExpression() : undefined;
      expr = { kind: 'cond', test, value: expr, ...(otherwise ? { otherwise } : {}), line };
    }
    return expr;
  }

  /**
   * A name or literal followed by what ends an expression (`)`, `,`, `%}`…): most arguments and
   * values are one, and the full precedence descent for them is most of the parse time.
   */
  private loneAtom(): Expr | undefined {
    const t = this.peek();
    if (t.kind === 'name') {
      if (t.value === 'not') return undefined;
    } else if (t.kind !== 'string' && t.kind !== 'int' && t.kind !== 'float') return undefined;
    const after = this.peekAt(1);
    const ends =
      after.kind === 'var_end' ||
      after.kind === 'block_end' ||
      (after.kind === 'op' && EXPRESSION_ENDS.has(after.value));
    return ends ? this.parsePrimary() : undefined;
  }

  /**
   * `or` (the loosest binary operator) and everything tighter. Most operands stand alone (`x.y`,
   * `f(a)`, `v | upper`): one unary-with-filters operand followed by no operator is returned
   * directly instead of descending through the eight precedence levels; otherwise the levels
   * continue from that operand, building the same tree.
   */
  private parseOr(): Expr {
    if (this.isName('not')) return this.parseOrFrom(undefined, 0);
    const line = this.peek().line;
    const operand = this.parseUnary(true);
    return this.continuesOperand() ? this.parseOrFrom(operand, line) : operand;
  }

  /** Whether the token after an operand is a binary operator (or `not in`) that extends it. */
  private continuesOperand(): boolean {
    const t = this.peek();
    if (t.kind === 'op') return BINARY_OPS.has(t.value);
    if (t.kind !== 'name') return false;
    if (t.value === 'and' || t.value === 'or' || t.value === 'in') return true;
    return t.value === 'not' && this.isNameAt('in', 1);
  }

  // Each level below takes an optional operand already parsed at its start (with that start's line)
  // from the fast path of parseOr; without one it parses its own.

  private parseOrFrom(first: Expr | undefined, line: number): Expr {
    let left = this.parseAnd(first, line);
    while (this.isName('or')) {
      const line = this.next().line;
      left = { kind: 'binary', op: 'or', left, right: this.parseAnd(), line };
    }
    return left;
  }

  private parseAnd(first?: Expr, firstLine = 0): Expr {
    let left = this.parseNot(first, firstLine);
    while (this.isName('and')) {
      const line = this.next().line;
      left = { kind: 'binary', op: 'and', left, right: this.parseNot(), line };
    }
    return left;
  }

  private parseNot(first?: Expr, firstLine = 0): Expr {
    if (!first && this.isName('not')) {
      const line = this.next().line;
      return { kind: 'unary', op: 'not', node: this.parseNot(), line };
    }
    return this.parseCompare(first, firstLine);
  }

  private parseCompare(first?: Expr, firstLine = 0): Expr {
    const line = first ? firstLine : this.peek().line;
    const operand = this.parseMath1(first, line);
    const ops: [string, Expr][] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && COMPARE_OPS.has(t.value)) {
        this.next();
        ops.push([t.value, this.parseMath1()]);
      } else if (this.skipName('in')) {
        ops.push(['in', this.parseMath1()]);
      } else if (this.isName('not') && this.isNameAt('in', 1)) {
        this.next();
        this.next();
        ops.push(['notin', this.parseMath1()]);
      } else break;
    }
    return ops.length ? { kind: 'compare', first: operand, ops, line } : operand;
  }

  private parseMath1(first?: Expr, firstLine = 0): Expr {
    let left = this.parseConcat(first, firstLine);
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value, left, right: this.parseConcat(), line: t.line };
    }
    return left;
  }

  private parseConcat(first?: Expr, firstLine = 0): Expr {
    const line = first ? firstLine : this.peek().line;
    const items = [this.parseMath2(first)];
    while (this.skipOp('~')) items.push(this.parseMath2());
    return items.length === 1 ? (items[0] as Expr) : { kind: 'concat', items, line };
  }

  private parseMath2(first?: Expr): Expr {
    let left = this.parsePow(first);
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value, left, right: this.parsePow(), line: t.line };
    }
    return left;
  }

  private parsePow(first?: Expr): Expr {
    let left = first ?? this.parseUnary(true);
    while (this.isOp('**')) {
      const t = this.next();
      left = { kind: 'binary', op: '**', left, right: this.parseUnary(true), line: t.line };
    }
    return left;
  }

  private parseUnary(withFilter: boolean): Expr {
    const t = this.peek();
    let node: Expr;
    if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
      this.next();
      node = { kind: 'unary', op: t.value, node: this.parseUnary(false), line: t.line };
    } else {
      node = this.parsePrimary();
    }
    node = this.parsePostfix(node);
    return withFilter ? this.parseFilterExpr(node) : node;
  }

  private parsePrimary(): Expr {
    const t = this.next();
    const line = t.line;
    switch (t.kind) {
      case 'name':
        if (t.value === 'true' || t.value === 'True') return { kind: 'const', value: true, line };
        if (t.value === 'false' || t.value === 'False') return { kind: 'const', value: false, line };
        if (t.value === 'none' || t.value === 'None') return { kind: 'const', value: null, line };
        return { kind: 'name', name: t.value, line };
      case 'string': {
        let value = t.value;
        while (this.peek().kind === 'string') value += this.next().value;
        return { kind: 'const', value, line };
      }
      case 'int':
        return { kind: 'const', value: Number(t.value), line };
      case 'float': {
        const n = Number(t.value);
        return { kind: 'const', value: Number.isInteger(n) ? new PyFloat(n) : n, line };
      }
      case 'op':
        if (t.value === '(') {
          const expr = this.parseTuple(false, true, false);
          this.expectOp(')');
          return expr;
        }
        if (t.value === '[') return { kind: 'list', items: this.parseItems(']'), line };
        if (t.value === '{') return this.parseDict(line);
        break;
      default:
        break;
    }
    return this.fail(`unexpected '${this.describe(t)}'`, line);
  }

  private parseItems(close: string): Expr[] {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      if (items.length) this.expectOp(',');
      if (this.isOp(close)) break;
      items.push(this.parseExpression());
    }
    this.expectOp(close);
    return items;
  }

  private parseDict(line: number): Expr {
    const pairs: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      if (pairs.length) this.expectOp(',');
      if (this.isOp('}')) break;
      const key = this.parseExpression();
      this.expectOp(':');
      pairs.push([key, this.parseExpression()]);
    }
    this.expectOp('}');
    return { kind: 'dict', pairs, line };
  }

  private parsePostfix(node: Expr): Expr {
    let n = node;
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op') return n;
      if (t.value === '.') {
        this.next();
        const attr = this.next();
        if (attr.kind === 'name') n = { kind: 'getattr', obj: n, attr: attr.value, line: t.line };
        else if (attr.kind === 'int')
          n = {
            kind: 'getitem',
            obj: n,
            key: { kind: 'const', value: Number(attr.value), line: t.line },
            line: t.line,
          };
        else this.fail(`expected name or number, got '${this.describe(attr)}'`);
      } else if (t.value === '[') {
        this.next();
        n = { kind: 'getitem', obj: n, key: this.parseSubscript(), line: t.line };
      } else if (t.value === '(') {
        n = { kind: 'call', fn: n, ...this.parseCallArgs(), line: t.line };
      } else return n;
    }
  }

  private parseSubscript(): Expr {
    const line = this.peek().line;
    const parts: (Expr | undefined)[] = [undefined];
    let isSlice = false;
    for (;;) {
      if (this.isOp(']')) break;
      if (this.skipOp(':')) {
        isSlice = true;
        parts.push(undefined);
        continue;
      }
      if (this.isOp(',')) this.fail('tuple subscripts are not supported');
      parts[parts.length - 1] = this.parseExpression();
    }
    this.expectOp(']');
    if (!isSlice) {
      if (!parts[0]) this.fail("expected an expression, got ']'", line);
      return parts[0] as Expr;
    }
    const [start, stop, step] = parts;
    return {
      kind: 'slice',
      ...(start ? { start } : {}),
      ...(stop ? { stop } : {}),
      ...(step ? { step } : {}),
      line,
    };
  }

  private parseCallArgs(): CallArgs {
    this.expectOp('(');
    const out: CallArgs = { args: [], kwargs: [] };
    let first = true;
    while (!this.isOp(')')) {
      if (!first) this.expectOp(',');
      first = false;
      if (this.isOp(')')) break;
      if (this.skipOp('**')) out.starKwargs = this.parseExpression();
      else if (this.skipOp('*')) out.starArgs = this.parseExpression();
      else if (this.peek().kind === 'name' && this.isOpAt('=', 1)) {
        const key = this.next().value;
        this.next();
        out.kwargs.push([key, this.parseExpression()]);
      } else out.args.push(this.parseExpression());
    }
    this.expectOp(')');
    return out;
  }

  private parseFilterExpr(node: Expr): Expr {
    let n = node;
    for (;;) {
      if (this.skipOp('|')) n = this.parseFilter(n);
      else if (this.isName('is')) n = this.parseTest(n);
      else if (this.isOp('(')) n = { kind: 'call', fn: n, ...this.parseCallArgs(), line: this.peek().line };
      else return n;
    }
  }

  private parseFilter(node: Expr | undefined): Expr {
    const t = this.expectName();
    let name = t.value;
    while (this.isOp('.') && this.peekAt(1).kind === 'name') {
      this.next();
      name += `.${this.next().value}`;
    }
    const args = this.isOp('(') ? this.parseCallArgs() : { args: [], kwargs: [] };
    const input: Expr = node ?? { kind: 'name', name: BODY_VAR, line: t.line };
    return { kind: 'filter', node: input, name, ...args, line: t.line };
  }

  private parseTest(node: Expr): Expr {
    const line = this.next().line;
    const negated = this.skipName('not');
    let name = this.expectName().value;
    while (this.isOp('.') && this.peekAt(1).kind === 'name') {
      this.next();
      name += `.${this.next().value}`;
    }
    let args: CallArgs = { args: [], kwargs: [] };
    const t = this.peek();
    if (this.isOp('(')) args = this.parseCallArgs();
    else if (
      (TEST_ARG_START.has(t.kind) || this.isOp('[') || this.isOp('{')) &&
      !(t.kind === 'name' && ['else', 'or', 'and', 'if', 'is', 'in', 'not'].includes(t.value))
    ) {
      const arg = this.parsePostfix(this.parsePrimary());
      args = { args: [arg], kwargs: [] };
    }
    return { kind: 'test', node, name, negated, ...args, line };
  }
}
