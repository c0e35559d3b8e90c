/** Where a CLI invocation writes, and what it knows about its terminal. Injected for tests. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  /** stdout is a terminal: human output, no JSON summary line. */
  stdoutIsTTY: boolean;
  /** stderr is a terminal: pretty logs and progress. */
  stderrIsTTY: boolean;
}

/** Writes a line to stdout. */
export const println = (io: CliIo, line = '') => io.stdout.write(`${line}\n`);
