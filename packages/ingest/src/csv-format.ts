const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Serialises one record as an RFC 4180 line (comma, LF, quotes only when needed, `""` escaping):
 * byte-identical to csv-stringify's defaults (a unit test holds it to that), but without a stream
 * per call — this runs once per row on the ingest hot path. A lone empty field is written as
 * `""` so the row is not mistaken for a blank line.
 *
 * @example
 * csvLine(['a', 'b,c', 'say "hi"']); // 'a,"b,c","say ""hi"""\n'
 */
export function csvLine(record: readonly string[]): string {
  if (record.length === 1 && record[0] === '') return '""\n';
  let line = '';
  for (let i = 0; i < record.length; i++) {
    const value = record[i] as string;
    if (i > 0) line += ',';
    line += NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  }
  return `${line}\n`;
}
