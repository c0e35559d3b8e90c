import { describe, expect, it } from 'vitest';
import config from '../../../vitest.config.js';

interface ProjectTest {
  name?: string;
  testTimeout?: number;
  hookTimeout?: number;
}

describe('tests that spawn processes or servers do not fail under load', () => {
  // example-airflow.test.ts spawns python3; at load average 7 three of its tests passed 5 s.
  it('every vitest project allows at least 60 s per test and per hook', () => {
    const projects = (config.test?.projects ?? []) as Array<{ test: ProjectTest }>;
    expect(projects.map((p) => p.test.name)).toEqual(['unit', 'integration']);
    for (const { test } of projects) {
      expect(test.testTimeout, test.name).toBeGreaterThanOrEqual(60_000);
      expect(test.hookTimeout, test.name).toBeGreaterThanOrEqual(60_000);
    }
  });
});
