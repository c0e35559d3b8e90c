import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { afterAll } from 'vitest';

/** Rows of a relation as CSV-like text lines (NULL → empty), header first, ordered by `orderBy`. */
export async function relationAsCsv(pool: pg.Pool, relationSql: string, orderBy: string): Promise<string[]> {
  const cols = await pool.query(`select * from ${relationSql} limit 0`);
  const names = cols.fields.map((f) => f.name);
  const exprs = names.map((n) => `coalesce("${n}"::text, '')`).join(` || ',' || `);
  const rows = await pool.query<{ line: string }>(
    `select ${exprs} as line from ${relationSql} order by ${orderBy}`,
  );
  return [names.join(','), ...rows.rows.map((r) => r.line)];
}

export async function csvLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split(/\r?\n/).filter((l) => l.length > 0);
}

const created: string[] = [];
afterAll(async () => {
  await Promise.all(created.map((d) => rm(d, { recursive: true, force: true })));
});

/** Writes a dbt-style project into a fresh temp dir (removed after the file's tests). */
export async function writeProject(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modeling-test-'));
  created.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** Rewrites files of a project written by {@link writeProject}. */
export async function updateProject(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
}
