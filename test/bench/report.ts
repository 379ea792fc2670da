import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

/**
 * What every bench scenario hands back: its figures (or rows of them) and its checks. A check is
 * `[name, ok]`, or `[name, ok, { value, target }]` when it compares a figure with a target (made by
 * `meets`), so the table can show both sides.
 */
export type Figure = number | string | boolean | null;
export type Check = readonly [name: string, ok: boolean, detail?: { value: Figure; target: string }];
export interface ScenarioResult {
  section: string;
  figures?: Record<string, Figure>;
  rows?: Record<string, Figure>[];
  checks: Check[];
}

/** A figure against its target: `meets('p99 (ms)', 84, '<=', 100)`. */
export function meets(name: string, value: number, op: '<=' | '>=' | '=', target: number): Check {
  const ok = op === '<=' ? value <= target : op === '>=' ? value >= target : value === target;
  return [name, ok, { value, target: `${op} ${target}` }];
}

export interface TableRow {
  section: string;
  figure: string;
  value: string;
  target: string;
  result: '' | 'ok' | 'MISS';
}

const show = (value: Figure | undefined): string =>
  value === null || value === undefined ? '-' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);

/** Every figure of every section (target '-'), then its checks with their targets and ok/MISS. */
export function tableRows(results: readonly ScenarioResult[]): TableRow[] {
  const rows: TableRow[] = [];
  for (const { section, figures, rows: figureRows, checks } of results) {
    for (const [figure, value] of Object.entries(figures ?? {}))
      rows.push({ section, figure, value: show(value), target: '-', result: '' });
    (figureRows ?? []).forEach((row, index) => {
      for (const [figure, value] of Object.entries(row))
        rows.push({ section, figure: `[${index + 1}] ${figure}`, value: show(value), target: '-', result: '' });
    });
    for (const [figure, ok, detail] of checks)
      rows.push({
        section,
        figure,
        value: detail ? show(detail.value) : show(ok),
        target: detail ? detail.target : 'yes',
        result: ok ? 'ok' : 'MISS',
      });
  }
  return rows;
}

/**
 * A plain-text table, columns padded to their widest cell; long figure names are cut at `maxName`
 * characters and long values at `maxValue` (the JSON file keeps them whole).
 */
export function formatTable(rows: readonly TableRow[], maxName = 90, maxValue = 60): string {
  const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  const header = { section: 'section', figure: 'figure', value: 'value', target: 'target', result: 'result' };
  const cells = [
    header,
    ...rows.map((row) => ({ ...row, figure: cut(row.figure, maxName), value: cut(row.value, maxValue) })),
  ];
  const keys = ['section', 'figure', 'value', 'target', 'result'] as const;
  const widths = keys.map((key) => Math.max(...cells.map((cell) => cell[key].length)));
  const line = (cell: Record<(typeof keys)[number], string>) =>
    keys
      .map((key, i) => (key === 'value' ? cell[key].padStart(widths[i] ?? 0) : cell[key].padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...cells.slice(1).map(line)].join('\n');
}

export const allOk = (results: readonly ScenarioResult[]) => results.every((r) => r.checks.every(([, ok]) => ok));

/**
 * Writes `<dir>/<timestamp>.json` and `<dir>/latest.json` (the same content) for comparing runs
 * between commits; returns the timestamped file's path.
 */
export function writeResults(
  dir: string,
  startedAt: Date,
  words: readonly string[],
  results: ScenarioResult[],
): string {
  const document = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpus: cpus().length,
    scenarios: words.length > 0 ? words : ['(default)'],
    ok: allOk(results),
    results: results.map((r) => ({ ...r, checks: r.checks.map(([name, ok, detail]) => ({ name, ok, ...detail })) })),
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  writeFileSync(file, text);
  writeFileSync(join(dir, 'latest.json'), text);
  return file;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: 'pipe' }).trim();
  } catch {
    return null;
  }
}

/** `phase  key value  key value  12.3 s`, the line the progress indicator shows. */
export function progressLine(phase: string, counts: Record<string, number | string>, elapsedMs: number): string {
  const parts = Object.entries(counts).map(([key, value]) => `${key} ${value}`);
  return [phase, ...parts, `${(elapsedMs / 1000).toFixed(1)} s`].join('  ');
}

/**
 * The progress indicator: one line on stderr rewritten with `\r`, only when stderr is a terminal
 * (a log file or CI gets the results alone). At most ten redraws a second.
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private width = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(phase: string, counts: Record<string, number | string> = {}): void {
    if (!this.stream.isTTY) return;
    const now = performance.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const columns = this.stream.columns || 120;
    const text = progressLine(phase, counts, now - this.started).slice(0, columns - 1);
    this.stream.write(`\r${text.padEnd(this.width)}`);
    this.width = text.length;
  }

  /** Clears the line (before anything else is printed). */
  clear(): void {
    if (!this.stream.isTTY || this.width === 0) return;
    this.stream.write(`\r${' '.repeat(this.width)}\r`);
    this.width = 0;
    this.lastDraw = 0;
  }
}

export const progress = new Progress();
