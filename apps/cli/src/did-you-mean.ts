/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j] ?? 0;
      prev[j] = Math.min((prev[j] ?? 0) + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length] ?? 0;
}

/**
 * The closest candidate within a small edit distance, if any.
 *
 * @example
 * didYouMean('sorces', ['sources', 'models']); // 'sources'
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const d = editDistance(input.toLowerCase(), c.toLowerCase());
    if (d <= Math.max(2, Math.floor(c.length / 3)) && (!best || d < best.d)) best = { c, d };
  }
  return best?.c;
}

/** `" (did you mean 'x'?)"`, or `''` when nothing is close. */
export function hintFor(input: string, candidates: Iterable<string>, quote = "'"): string {
  const hint = didYouMean(input, candidates);
  return hint ? ` (did you mean ${quote}${hint}${quote}?)` : '';
}
