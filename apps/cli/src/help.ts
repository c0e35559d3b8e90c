import type { FlagDef } from './args.js';
import type { CliCommand } from './lifecycle.js';
import type { CommandEntry } from './registry.js';
import { VERSION } from './version.js';

const column = (rows: Array<[string, string]>) => {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`.trimEnd()).join('\n');
};

const flagLabel = (name: string, def: FlagDef) =>
  `--${name}${def.type === 'string' ? ` ${def.valueHint ?? 'VALUE'}` : ''}`;

/**
 * `dataflow --help`: the commands, one line each.
 *
 * @example
 * process.stdout.write(rootUsage(COMMANDS));
 */
export function rootUsage(commands: Readonly<Record<string, CommandEntry>>): string {
  return [
    `dataflow ${VERSION}: ingest -> load -> model -> test, on PostgreSQL; fits Airflow (exit codes, JSON summary line)`,
    '',
    'USAGE',
    '  dataflow <command> [flags]',
    '',
    'COMMANDS',
    column(Object.entries(commands).map(([name, c]) => [name, c.description])),
    '',
    'FLAGS',
    column([
      ['--version', 'Print the version'],
      ['-h, --help', 'Show help (dataflow <command> --help for its flags and examples)'],
    ]),
    '',
  ].join('\n');
}

/**
 * `dataflow <command> --help`: only the flags that command uses, then examples.
 *
 * @example
 * process.stdout.write(commandUsage(await COMMANDS.run.load(), COMMANDS.run.description));
 */
export function commandUsage(command: CliCommand, description: string): string {
  const positionals = command.positionals.map((p) =>
    p.required ? ` ${p.name.toUpperCase()}` : ` [${p.name.toUpperCase()}]`,
  );
  const args = command.positionals.map((p): [string, string] => [p.name.toUpperCase(), p.description]);
  const flags = Object.entries(command.flags).map(([name, def]): [string, string] => [
    flagLabel(name, def),
    `${def.description}${def.multiple ? ' (repeatable)' : ''}`,
  ]);
  return [
    `dataflow ${command.name}: ${description}`,
    '',
    'USAGE',
    `  dataflow ${command.name}${positionals.join('')} [flags]`,
    ...(args.length ? ['', 'ARGUMENTS', column(args)] : []),
    '',
    'FLAGS',
    column([...flags, ['-h, --help', 'Show this help']]),
    '',
    'EXAMPLES',
    ...command.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
