// "Did you mean …?" for unknown option names: the same name in another case or spelling style (`data_dir` for
// `dataDir`), or one within a few edits of a known name (`prot` for `port`, `trustedProxy` for `trustedProxies`).

export function closest(name: string, candidates: readonly string[]): string | undefined {
  const folded = fold(name);
  const sameWord = candidates.find((c) => fold(c) === folded);
  if (sameWord !== undefined) return sameWord;
  // Two edits for short names, three for long ones: enough for a typo or a plural, not for another word.
  const allowed = folded.length >= 8 ? 3 : 2;
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const d = distance(folded, fold(candidate), allowed);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/** Damerau–Levenshtein (optimal string alignment): a swap of two neighbours (`prot`/`port`) is one edit. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[i].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}
