#!/usr/bin/env node
import { runCli } from './cli.js';
import { installSignalHandlers } from './shutdown.js';

const controller = new AbortController();
installSignalHandlers(controller, process);

const code = await runCli(process.argv.slice(2), { signal: controller.signal });
process.exitCode = code;
// Let stdout drain (the JSON summary line) before exiting; stray handles must not keep us alive.
process.stdout.write('', () => process.exit(code));
