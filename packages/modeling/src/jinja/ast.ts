/** Expression nodes of a parsed template (a string `kind` discriminant, as in Jinja2's AST). */
export type Expr =
  | { kind: 'const'; value: unknown; line: number }
  | { kind: 'name'; name: string; line: number }
  | { kind: 'list'; items: Expr[]; line: number }
  | { kind: 'tuple'; items: Expr[]; line: number }
  | { kind: 'dict'; pairs: [Expr, Expr][]; line: number }
  | { kind: 'getattr'; obj: Expr; attr: string; line: number }
  | { kind: 'getitem'; obj: Expr; key: Expr; line: number }
  | { kind: 'slice'; start?: Expr; stop?: Expr; step?: Expr; line: number }
  | ({ kind: 'call'; fn: Expr; line: number } & CallArgs)
  | ({ kind: 'filter'; node: Expr; name: string; line: number } & CallArgs)
  | ({ kind: 'test'; node: Expr; name: string; negated: boolean; line: number } & CallArgs)
  | { kind: 'unary'; op: 'not' | '-' | '+'; node: Expr; line: number }
  | { kind: 'binary'; op: string; left: Expr; right: Expr; line: number }
  | { kind: 'compare'; first: Expr; ops: [string, Expr][]; line: number }
  | { kind: 'concat'; items: Expr[]; line: number }
  | { kind: 'cond'; test: Expr; value: Expr; otherwise?: Expr; line: number };

/** Positional, keyword, `*args` and `**kwargs` arguments of a call, filter or test. */
export interface CallArgs {
  args: Expr[];
  kwargs: [string, Expr][];
  starArgs?: Expr;
  starKwargs?: Expr;
}

/** Where `set` / `for` store: a name, a namespace attribute, or a tuple of targets. */
export type Target =
  | { kind: 'name'; name: string }
  | { kind: 'nsattr'; name: string; attr: string }
  | { kind: 'tuple'; items: Target[] };

export interface MacroParam {
  name: string;
  default?: Expr;
}

/** Statement nodes. */
export type Stmt =
  | { kind: 'data'; text: string; line: number }
  | { kind: 'print'; expr: Expr; line: number }
  | { kind: 'if'; branches: [Expr, Stmt[]][]; otherwise?: Stmt[]; line: number }
  | {
      kind: 'for';
      target: Target;
      iter: Expr;
      body: Stmt[];
      otherwise?: Stmt[];
      filter?: Expr;
      line: number;
    }
  | { kind: 'set'; target: Target; value: Expr; line: number }
  | { kind: 'setblock'; target: Target; body: Stmt[]; filters: Expr[]; line: number }
  | { kind: 'macro'; name: string; params: MacroParam[]; body: Stmt[]; line: number }
  | { kind: 'callblock'; call: Expr; params: MacroParam[]; body: Stmt[]; line: number }
  | { kind: 'filterblock'; filters: Expr[]; body: Stmt[]; line: number }
  | { kind: 'with'; assignments: [Target, Expr][]; body: Stmt[]; line: number }
  | { kind: 'do'; expr: Expr; line: number }
  | { kind: 'break'; line: number }
  | { kind: 'continue'; line: number }
  | { kind: 'block'; body: Stmt[]; line: number }
  | { kind: 'include'; template: Expr; ignoreMissing: boolean; withContext: boolean; line: number }
  | { kind: 'import'; template: Expr; target: string; withContext: boolean; line: number }
  | { kind: 'fromimport'; template: Expr; names: [string, string][]; withContext: boolean; line: number }
  | { kind: 'extends'; template: Expr; line: number }
  | { kind: 'namedblock'; name: string; body: Stmt[]; scoped: boolean; line: number };
