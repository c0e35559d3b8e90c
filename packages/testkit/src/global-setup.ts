import type { TestProject } from 'vitest/node';
import { startTestServices } from './services.js';

/** vitest globalSetup: one PostgreSQL and one S3 server for the whole integration run. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { services, stop } = await startTestServices();
  project.provide('dataflowTestServices', services);
  return stop;
}
