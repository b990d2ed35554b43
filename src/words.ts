// The known word nearest to a mistyped one (config keys, filter events).

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The known word nearest to a mistyped one, if it is near enough to be what was meant. */
export function closest(word: string, known: readonly string[]): string | undefined {
  return known
    .map((c) => [c, editDistance(word, c)] as const)
    .sort((a, b) => a[1] - b[1])
    .find(([, d]) => d <= Math.max(2, word.length / 3))?.[0];
}
