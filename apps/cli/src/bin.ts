#!/usr/bin/env node
import { runCli } from './cli.js';

// SIGTERM (Airflow killing a task) and SIGINT (Ctrl-C) abort every library call through one
// signal; the command records the run as aborted and exits 143 / 130. A second signal exits now.
const controller = new AbortController();
const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
  if (controller.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130);
  controller.abort(signal);
};
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));

const code = await runCli(process.argv.slice(2), { signal: controller.signal });
process.exitCode = code;
// Let stdout drain (the JSON summary line) before exiting; stray handles must not keep us alive.
process.stdout.write('', () => process.exit(code));
