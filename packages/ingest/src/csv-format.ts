const NEEDS_QUOTES = /[",\r\n]/;

/**
 * Marks a field that was quoted and empty in the input (`""`): COPY reads it as the empty string,
 * while an unquoted empty field is NULL, so the writer must keep the quotes.
 */
export const QUOTED_EMPTY: unique symbol = Symbol('quoted empty field');

/** One field to serialise: text, or {@link QUOTED_EMPTY}. */
export type CsvField = string | typeof QUOTED_EMPTY;

/**
 * Serialises one record as an RFC 4180 line (comma, LF, quotes only when needed, `""` escaping):
 * byte-identical to csv-stringify's defaults (a unit test holds it to that), but without a stream
 * per call — this runs once per row on the ingest hot path. COPY's CSV rules decide the rest:
 * an empty string is written unquoted (NULL), {@link QUOTED_EMPTY} as `""` (the empty string),
 * and a lone `\.` — COPY's end-of-data marker — quoted, as are lone empty fields, so the row is
 * not mistaken for a blank line.
 *
 * @example
 * csvLine(['a', 'b,c', 'say "hi"']); // 'a,"b,c","say ""hi"""\n'
 * csvLine(['1', QUOTED_EMPTY, '']);  // '1,"",\n'
 */
export function csvLine(record: readonly CsvField[]): string {
  if (record.length === 1 && (record[0] === '' || record[0] === QUOTED_EMPTY)) return '""\n';
  if (record.length === 1 && record[0] === '\\.') return '"\\."\n';
  let line = '';
  for (let i = 0; i < record.length; i++) {
    const value = record[i] as CsvField;
    if (i > 0) line += ',';
    if (value === QUOTED_EMPTY) line += '""';
    else line += NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
  }
  return `${line}\n`;
}
