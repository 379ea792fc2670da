/**
 * `npm run bench -- bundles` (also part of the plain `npm run bench`, before the runtime starts; about
 * four minutes): every function bundled exactly as it is deployed (OrderFunction's bundling options) and
 * a lean reference handler (fixtures/lean-handler.ts: DynamoDB document client + Powertools logger)
 * bundled the same way. For each bundle: its size and its init time, the time `import()` of the
 * bundle takes in a fresh Node process with the function's environment, BENCH_INIT_RUNS times
 * (default 9; with 5, this machine's noise moved a ratio by 0.1 to 0.3 between runs), each right after an
 * import of the reference: the ratio is the median of these pairs' ratios, so a machine busy with other
 * work slows both sides of it. Target: every ratio <= 1.25.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { synthTemplate } from '../../infra/build.ts';
import { WORKFLOW_DEFINITION_FILE } from '../../infra/workflow-definition.ts';
import { readDeployment } from '../../local/template.ts';
import { bundleFunctions } from '../support/lambda-bundle.ts';

export const INIT_RATIO_TARGET = 1.25;
const RUNS = Number(process.env.BENCH_INIT_RUNS ?? 9);
const REFERENCE = 'lean-reference';
const REFERENCE_ENTRY = 'test/bench/fixtures/lean-handler.ts';

/** Runs in the fresh process: the time from before `import()` to the module's evaluation done. */
const IMPORT_SCRIPT =
  'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));';

export interface BenchSection {
  section: string;
  rows: Record<string, number | string>[];
  checks: [string, boolean][];
}

export async function bundleBench(): Promise<BenchSection> {
  const deployment = readDeployment(
    synthTemplate(),
    { region: 'us-east-1', accountId: '000000000000' },
    { stackName: 'SalesOrders', definitionFile: WORKFLOW_DEFINITION_FILE },
  );
  const functions = new Map(deployment.functions.map((f) => [basename(dirname(f.entry)), f]));
  // The reference gets what every function's environment shares (NODE_OPTIONS, Powertools' settings).
  const shared = Object.entries(deployment.functions[0]?.environment ?? {}).filter(([key, value]) =>
    deployment.functions.every((f) => f.environment[key] === value),
  );
  const environments = new Map<string, Record<string, string>>([
    [REFERENCE, Object.fromEntries(shared)],
    ...[...functions].map(([name, f]): [string, Record<string, string>] => [name, f.environment]),
  ]);

  const outdir = mkdtempSync(join(tmpdir(), 'lambda-bundles-'));
  try {
    const entries = Object.fromEntries([
      [REFERENCE, REFERENCE_ENTRY],
      ...[...functions].map(([name, f]) => [name, f.entry]),
    ]);
    const files = Object.fromEntries([...functions].map(([name, f]) => [name, f.files]));
    const { outputs } = await bundleFunctions(entries, { outdir, files });
    const names = [...functions.keys()].sort();
    const measure = (name: string) =>
      importMs(resolve((outputs[name] ?? fail(`no bundle for ${name}`)).file), name, environments.get(name) ?? {});
    // Each function's import right after one of the reference: a ratio of neighbours, whatever the machine does.
    const samples = new Map<string, { ms: number; ratio: number }[]>(names.map((name) => [name, []]));
    const referenceSamples: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      process.stdout.write(`\rbundles: init time, run ${run + 1} of ${RUNS} over ${names.length} functions`);
      for (const name of names) {
        const referenceMs = measure(REFERENCE);
        const ms = measure(name);
        referenceSamples.push(referenceMs);
        samples.get(name)?.push({ ms, ratio: ms / referenceMs });
      }
    }
    process.stdout.write('\n');

    const referenceMs = median(referenceSamples);
    const rows = [
      {
        function: REFERENCE,
        sizeKb: Math.round((outputs[REFERENCE]?.bytes ?? 0) / 1024),
        initMs: round(referenceMs, 1),
        ratio: 1,
      },
      ...names.map((name) => ({
        function: name,
        sizeKb: Math.round((outputs[name]?.bytes ?? 0) / 1024),
        initMs: round(median(samples.get(name)?.map((s) => s.ms) ?? []), 1),
        ratio: round(median(samples.get(name)?.map((s) => s.ratio) ?? []), 2),
      })),
    ];
    printTable(rows);
    const checks = rows
      .filter((row) => row.function !== REFERENCE)
      .map((row): [string, boolean] => [
        `${row.function} init ${row.initMs} ms, reference ${referenceMs.toFixed(1)} ms: ratio ${row.ratio} (target <= ${INIT_RATIO_TARGET})`,
        row.ratio <= INIT_RATIO_TARGET,
      ]);
    for (const [name, ok] of checks) if (!ok) console.log(`MISS bundles: ${name}`);
    const slowest = rows.filter((row) => row.function !== REFERENCE).sort((a, b) => b.ratio - a.ratio)[0];
    if (checks.every(([, ok]) => ok))
      console.log(
        `ok   bundles: every init <= ${INIT_RATIO_TARGET} x reference (slowest ${slowest?.function} ${slowest?.ratio})`,
      );
    return { section: 'bundles', rows, checks };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** One cold import of a bundle in a fresh Node process, with the function's environment only. */
function importMs(file: string, name: string, environment: Record<string, string>): number {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href], {
    env: { ...environment, AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_NAME: name },
    encoding: 'utf8',
  });
  const ms = Number(result.stdout);
  if (result.status !== 0 || !Number.isFinite(ms)) fail(`importing the ${name} bundle failed: ${result.stderr}`);
  return ms;
}

function printTable(rows: Record<string, number | string>[]) {
  const columns = ['function', 'sizeKb', 'initMs', 'ratio'];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c]))));
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const fail = (message: string): never => {
  throw new Error(message);
};
