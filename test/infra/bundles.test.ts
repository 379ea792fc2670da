import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildOrderApp } from '../../infra/build.ts';

/**
 * What `cdk deploy` uploads: every function bundled by esbuild (ESM, minified), then each bundle
 * loaded — its INIT — with only the environment the template gives that function.
 */
const outdir = mkdtempSync(join(tmpdir(), 'sales-orders-assembly-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const LOADER = `
const [bundle, env] = JSON.parse(process.argv[1]);
for (const key of Object.keys(process.env)) if (!['PATH', 'HOME'].includes(key)) delete process.env[key];
Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'bundle-check' }, env);
const module = await import(bundle);
process.stdout.write(typeof module.handler);
`;

describe('deployment bundles', () => {
  it('bundles every function and each one initialises with only its own environment', () => {
    const { app, stack } = buildOrderApp({ outdir });
    const assembly = app.synth();
    const template = assembly.getStackArtifact(stack.artifactId).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties: Record<string, any> }>;
    };
    const functions = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['sales:entry'],
    );
    expect(functions).toHaveLength(21);
    for (const fn of functions) {
      const env = Object.fromEntries(
        Object.entries((fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : 'resolved-at-deploy',
        ]),
      );
      // The code asset's S3 key is `<hash>.zip`; its staged directory is `asset.<hash>`.
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const bundle = join(assembly.directory, `asset.${hash}`, 'index.mjs');
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
      expect(loaded, fn.Metadata?.['sales:entry']).toBe('function');
    }
  }, 120_000);
});
