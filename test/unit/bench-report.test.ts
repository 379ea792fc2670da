import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backoffMs, counterSteps, numberingGaps, percentile } from '../bench/figures.ts';
import {
  allOk,
  formatTable,
  meets,
  Progress,
  progressLine,
  type ScenarioResult,
  tableRows,
  writeResults,
} from '../bench/report.ts';

const results: ScenarioResult[] = [
  {
    section: 'flash sale',
    figures: { ordersPerSecond: 12.5, arrival: 'all at once', allSettled: true, missing: null },
    checks: [meets('orders COMPLETED (= units)', 100, '=', 100), meets('5xx answers', 3, '=', 0)],
  },
  { section: 'load', rows: [{ COMPLETED: 800 }], checks: [['every order placed', true]] },
];

describe('bench report', () => {
  it('compares a figure with its target', () => {
    expect(meets('p99 (ms)', 84, '<=', 100)).toEqual(['p99 (ms)', true, { value: 84, target: '<= 100' }]);
    expect(meets('p99 (ms)', 101, '<=', 100)[1]).toBe(false);
    expect(meets('orders/s', 0.5, '>=', 0.5)[1]).toBe(true);
    expect(meets('orders/s', 0.49, '>=', 0.5)[1]).toBe(false);
    expect(meets('gaps', 1, '=', 0)[1]).toBe(false);
  });

  it('lists every figure, then every check with its target and ok/MISS', () => {
    const rows = tableRows(results);
    expect(rows.map((r) => [r.section, r.figure, r.value, r.target, r.result])).toEqual([
      ['flash sale', 'ordersPerSecond', '12.5', '-', ''],
      ['flash sale', 'arrival', 'all at once', '-', ''],
      ['flash sale', 'allSettled', 'yes', '-', ''],
      ['flash sale', 'missing', '-', '-', ''],
      ['flash sale', 'orders COMPLETED (= units)', '100', '= 100', 'ok'],
      ['flash sale', '5xx answers', '3', '= 0', 'MISS'],
      ['load', '[1] COMPLETED', '800', '-', ''],
      ['load', 'every order placed', 'yes', 'yes', 'ok'],
    ]);
    expect(allOk(results)).toBe(false);
    expect(allOk([results[1] as ScenarioResult])).toBe(true);
  });

  it('formats the table in aligned columns, values right-aligned, long names cut', () => {
    const text = formatTable(tableRows(results), 20, 8);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^section\s+figure\s+value\s+target\s+result$/);
    expect(lines[1]).toMatch(/^-+( {2}-+){4}$/);
    expect(lines).toHaveLength(2 + 8);
    expect(text).toContain('orders COMPLETED (=…');
    expect(text).toContain('all at …');
    const valueEnd = lines[0]?.indexOf('value') ?? 0;
    // Every value ends in the same column as the header's "value".
    for (const line of lines.slice(2)) expect(line.slice(valueEnd, valueEnd + 5)).toMatch(/\S$/);
    expect(lines.find((l) => l.includes('5xx'))).toMatch(/3 {2}= 0 +MISS$/);
  });

  it('writes the results as JSON, timestamped and as latest.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    const file = writeResults(dir, new Date('2026-01-02T03:04:05.678Z'), ['flash'], results);
    expect(file).toBe(join(dir, '2026-01-02T03-04-05-678Z.json'));
    expect(readdirSync(dir).sort()).toEqual(['2026-01-02T03-04-05-678Z.json', 'latest.json']);
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(readFileSync(join(dir, 'latest.json'), 'utf8')).toBe(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({ startedAt: '2026-01-02T03:04:05.678Z', scenarios: ['flash'], ok: false });
    expect(written.results[0].checks[1]).toEqual({ name: '5xx answers', ok: false, value: 3, target: '= 0' });
    expect(written.results[1].checks[0]).toEqual({ name: 'every order placed', ok: true });
  });

  it('draws progress on a terminal only, one line rewritten with \\r', () => {
    expect(progressLine('flash: placing', { accepted: 12, of: 2000 }, 3_456)).toBe(
      'flash: placing  accepted 12  of 2000  3.5 s',
    );
    const written: string[] = [];
    const stream = (isTTY: boolean) =>
      ({ isTTY, columns: 80, write: (text: string) => written.push(text) }) as unknown as NodeJS.WriteStream;
    new Progress(stream(false)).update('phase', { n: 1 });
    expect(written).toEqual([]);
    const progress = new Progress(stream(true));
    progress.update('phase', { n: 1 });
    progress.clear();
    expect(written[0]).toMatch(/^\rphase {2}n 1 {2}\d+\.\d s$/);
    expect(written[1]).toMatch(/^\r +\r$/);
  });
});

describe('bench figures', () => {
  it('finds gaps and duplicates in a numbering', () => {
    expect(numberingGaps([3, 1, 2])).toEqual({ first: 1, last: 3, gaps: 0, duplicates: 0 });
    expect(numberingGaps([1, 2, 4])).toEqual({ first: 1, last: 4, gaps: 1, duplicates: 0 });
    expect(numberingGaps([1, 2, 2, 3])).toEqual({ first: 1, last: 3, gaps: 0, duplicates: 1 });
    expect(numberingGaps([5, 5, 8])).toEqual({ first: 5, last: 8, gaps: 2, duplicates: 1 });
    expect(numberingGaps([])).toEqual({ first: 0, last: 0, gaps: 0, duplicates: 0 });
  });

  it('keeps one sample per counter value: the numbering transactions seen', () => {
    const samples = [
      { at: 0, last: 0 },
      { at: 20, last: 0 },
      { at: 40, last: 24 },
      { at: 60, last: 24 },
      { at: 80, last: 48 },
    ];
    expect(counterSteps(samples)).toEqual([
      { at: 0, last: 0 },
      { at: 40, last: 24 },
      { at: 80, last: 48 },
    ]);
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100, unsorted
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99), percentile(values, 100)]).toEqual([
      50, 95, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('backs off after a 429 as a Retry-After says, else exponentially with full jitter up to 8 s', () => {
    expect(backoffMs(1, '2', 0.5)).toBe(2000);
    expect(backoffMs(3, '0', 0.5)).toBe(0);
    expect(backoffMs(1, null, 1)).toBe(500);
    expect(backoffMs(3, null, 1)).toBe(2000);
    expect(backoffMs(3, null, 0.25)).toBe(500);
    expect(backoffMs(10, null, 1)).toBe(8000);
    expect(backoffMs(2, 'soon', 1)).toBe(1000);
    expect(backoffMs(2, '', 1)).toBe(1000);
  });
});
