/** Pure arithmetic of the bench's figures (unit-tested in test/unit/bench-report.test.ts). */

/** The lowest and highest number, how many are missing between them and how many appear twice. */
export function numberingGaps(numbers: readonly number[]): {
  first: number;
  last: number;
  gaps: number;
  duplicates: number;
} {
  const sorted = [...numbers].sort((a, b) => a - b);
  const duplicates = sorted.filter((n, i) => i > 0 && sorted[i - 1] === n).length;
  const first = sorted[0] ?? 0;
  const last = sorted.at(-1) ?? 0;
  const gaps = sorted.length === 0 ? 0 : last - first + 1 - (sorted.length - duplicates);
  return { first, last, gaps, duplicates };
}

/** Distinct counter values seen, in order: each step after the first is one numbering transaction. */
export function counterSteps(samples: readonly { at: number; last: number }[]): { at: number; last: number }[] {
  const steps: { at: number; last: number }[] = [];
  for (const sample of samples) if (steps.at(-1)?.last !== sample.last) steps.push(sample);
  return steps;
}

/** A wait after a 429: the Retry-After when one came, else exponential with full jitter, at most 8 s. */
export function backoffMs(attempt: number, retryAfter: string | null, random = Math.random()): number {
  const seconds = Number(retryAfter);
  if (retryAfter !== null && retryAfter.trim() !== '' && Number.isFinite(seconds) && seconds >= 0)
    return seconds * 1000;
  return Math.round(random * Math.min(8_000, 250 * 2 ** attempt));
}

/** The value at or below which `p` percent of `values` lie (nearest rank); NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((sorted.length * p) / 100) - 1))] as number;
}
