import type { Diagnostic } from '../graph.js';

/** Where a diagnostic points: the node it is about and, when known, its file and line. */
export interface DiagnosticLocation {
  node?: string;
  file?: string;
  line?: number;
}

/**
 * Collects a compile's diagnostics (one compile reports every problem instead of stopping at the
 * first). {@link DiagnosticSink.at} returns a sink bound to one node, so a phase reporting about
 * the node it works on names it once.
 */
export interface DiagnosticSink {
  readonly list: Diagnostic[];
  error(code: Diagnostic['code'], message: string, where?: DiagnosticLocation): void;
  warning(code: Diagnostic['code'], message: string, where?: DiagnosticLocation): void;
  /** A sink for one node (`node` and `file` filled in; `line` per call). */
  at(node: string, file?: string): NodeDiagnostics;
}

/** A {@link DiagnosticSink} bound to the node a phase is working on. */
export interface NodeDiagnostics {
  error(code: Diagnostic['code'], message: string, line?: number): void;
  warning(code: Diagnostic['code'], message: string, line?: number): void;
}

const located = (where: DiagnosticLocation = {}): Partial<Diagnostic> => ({
  ...(where.file ? { file: where.file } : {}),
  ...(where.line ? { line: where.line } : {}),
  ...(where.node ? { node: where.node } : {}),
});

/** A sink appending to `list` (a fresh one by default). */
export function createDiagnosticSink(list: Diagnostic[] = []): DiagnosticSink {
  const push = (
    severity: Diagnostic['severity'],
    code: Diagnostic['code'],
    message: string,
    where?: DiagnosticLocation,
  ) => list.push({ severity, code, message, ...located(where) });
  return {
    list,
    error: (code, message, where) => push('error', code, message, where),
    warning: (code, message, where) => push('warning', code, message, where),
    at: (node, file) => ({
      error: (code, message, line) =>
        push('error', code, message, { node, ...(file ? { file } : {}), ...(line ? { line } : {}) }),
      warning: (code, message, line) =>
        push('warning', code, message, { node, ...(file ? { file } : {}), ...(line ? { line } : {}) }),
    }),
  };
}
