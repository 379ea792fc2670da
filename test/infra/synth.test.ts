import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_DIR } from '../../infra/constructs/function-bundling.ts';

/**
 * Synthesis as users run it. `npm run synth` (the CDK CLI) always hands the app a region, and an
 * account whenever it can resolve credentials, so the stack is environment-specific there while the
 * in-process tests synthesize it environment-agnostic: both must pass cdk-nag. Then what
 * `cdk deploy` uploads: every function bundle loaded — its INIT — with only its own environment.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sales-orders-synth-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  output: string;
  outdir: string;
}

function run(command: string, args: string[], env: Record<string, string | undefined>, outdir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    for (const key of ['CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION', 'CDK_OUTDIR', 'CDK_CONTEXT_JSON']) delete base[key];
    for (const [key, value] of Object.entries(env)) {
      if (value === undefined) delete base[key];
      else base[key] = value;
    }
    const child = spawn(command, args, { cwd: ROOT, env: base, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output, outdir }));
  });
}

/** The CLI's contract with the app (CDK_OUTDIR, CDK_CONTEXT_JSON, CDK_DEFAULT_*), without bundling. */
function appAsTheCliRunsIt(env: { account?: string; region?: string }): Promise<Run> {
  const outdir = tempDir();
  return run(
    'npx',
    ['tsx', 'infra/app.ts'],
    {
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
      CDK_DEFAULT_ACCOUNT: env.account,
      CDK_DEFAULT_REGION: env.region,
    },
    outdir,
  );
}

const template = (result: Run) =>
  JSON.parse(readFileSync(join(result.outdir, 'SalesOrders.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties: Record<string, any> }>;
  };

const sesGrant = (result: Run) =>
  JSON.stringify(
    Object.entries(template(result).Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Policy' && /^IssueInvoice/.test(id),
    )?.[1],
  );

let cli: Run;
let otherRegion: Run;
let agnostic: Run;

beforeAll(async () => {
  const cliOut = tempDir();
  [cli, otherRegion, agnostic] = await Promise.all([
    // Exactly the README's command, in a concrete account and region, with bundling.
    run(
      'npm',
      ['run', 'synth', '--', '--region', 'eu-central-1', '--output', cliOut],
      { CDK_DEFAULT_ACCOUNT: '123456789012', AWS_PROFILE: undefined },
      cliOut,
    ),
    appAsTheCliRunsIt({ account: '210987654321', region: 'us-west-2' }),
    appAsTheCliRunsIt({}),
  ]);
}, 240_000);

describe('synthesis in every environment', () => {
  it('`npm run synth` succeeds for a concrete account and region, cdk-nag included', () => {
    expect(cli.output).not.toMatch(/Synthesis finished with errors|AwsSolutions-/);
    expect(cli.code, cli.output.slice(-2000)).toBe(0);
    expect(sesGrant(cli)).toContain(':ses:eu-central-1:123456789012:identity/*');
  });

  it('the app synthesizes for another concrete region and environment-agnostic', () => {
    expect(otherRegion.code, otherRegion.output.slice(-2000)).toBe(0);
    expect(sesGrant(otherRegion)).toContain(':ses:us-west-2:210987654321:identity/*');
    expect(agnostic.code, agnostic.output.slice(-2000)).toBe(0);
    expect(sesGrant(agnostic)).toContain('"Ref":"AWS::Region"');
  });
});

const LOADER = `
const [bundle, env] = JSON.parse(process.argv[1]);
for (const key of Object.keys(process.env)) if (!['PATH', 'HOME'].includes(key)) delete process.env[key];
Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'bundle-check' }, env);
const module = await import(bundle);
process.stdout.write(typeof module.handler);
`;

describe('deployment bundles', () => {
  it('bundles every function and each one initialises with only its own environment', () => {
    const functions = Object.values(template(cli).Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['sales:entry'],
    );
    expect(functions.length).toBeGreaterThanOrEqual(20);
    let shipped = 0;
    for (const fn of functions) {
      const env = Object.fromEntries(
        Object.entries((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'resolved-at-deploy',
        ]),
      );
      const entry = String(fn.Metadata?.['sales:entry']);
      // The code asset's S3 key is `<hash>.zip`; its staged directory is `asset.<hash>`.
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const bundle = join(cli.outdir, `asset.${hash}`, 'index.mjs');
      let loaded: string;
      try {
        loaded = execFileSync(process.execPath, ['--input-type=module', '-e', LOADER, JSON.stringify([bundle, env])], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (error) {
        // Minified bundles print whole lines of code: keep the error line only.
        const stderr = String((error as { stderr?: string }).stderr ?? '');
        loaded = stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? stderr.slice(-300);
      }
      expect(loaded, entry).toBe('function');
      // The map names its sources relative to where the bundle was built, a place inside the checkout, never by
      // the checkout's path: otherwise the package (and the asset hash) would differ between machines.
      const { sources } = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
      expect(sources.length).toBeGreaterThan(10);
      expect(
        sources.filter((source) => !resolve(BUILD_DIR, dirname(entry), source).startsWith(ROOT)),
        entry,
      ).toEqual([]);
      // Files the code reads beside its bundle (the PDF fonts) are in the deployment package, as in the repository.
      const files = Object.entries((fn.Metadata?.['sales:files'] ?? {}) as Record<string, string>);
      for (const [target, source] of files)
        expect(readFileSync(join(dirname(bundle), target)).equals(readFileSync(source)), target).toBe(true);
      shipped += files.length;
    }
    expect(shipped).toBe(6); // two fonts beside each of the three functions that write PDFs
  }, 120_000);
});
