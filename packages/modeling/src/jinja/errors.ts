/** Stable codes of template errors. */
export type TemplateErrorCode = 'TEMPLATE_SYNTAX' | 'TEMPLATE_RUNTIME' | 'COMPILER_ERROR';

/**
 * A template failed to parse or render; `file` and `line` locate it.
 *
 * @example
 * try { env.renderString('{{ 1 +', 'm.sql'); } catch (e) { if (e instanceof TemplateError) console.log(e.file, e.line); }
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
  readonly code: TemplateErrorCode;
  readonly file: string;
  line: number | undefined;
  constructor(
    code: TemplateErrorCode,
    message: string,
    file: string,
    line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.file = file;
    this.line = line;
  }
}

/** The template text is not valid Jinja. */
export class TemplateSyntaxError extends TemplateError {
  override name = 'TemplateSyntaxError';
  constructor(message: string, file: string, line?: number) {
    super('TEMPLATE_SYNTAX', message, file, line);
  }
}
