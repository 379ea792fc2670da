import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { FONT_BUNDLE_FILES } from '../../functions/adapters/pdf/fonts.ts';
import { buildOrderApp } from '../../infra/build.ts';
import { ENTRY_METADATA_KEY, FILES_METADATA_KEY } from '../../infra/function-package.ts';
import { bundleFunctions, packagesOf } from '../support/lambda-bundle.ts';

/**
 * What each function's bundle holds, bundled with the deployed options (one esbuild run, no timing):
 * an AWS SDK client only where the function's role is granted that service, and the heavy libraries
 * only in the functions that use them. A shared module that reaches every client or library would
 * put them back into every bundle, and every function's cold start would pay for them.
 */

/** The IAM service prefix a client's calls need. */
const SDK_CLIENT_SERVICES: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sesv2': 'ses',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-eventbridge': 'events',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-cognito-identity-provider': 'cognito-idp',
};

/** The S3 adapter: S3's REST API signed with the SDK's SigV4 signer, lighter than its S3 client. */
const S3_ADAPTER = 'functions/adapters/clients/s3.ts';
/** Reads the fonts PDFs are set in from beside the bundle. */
const PDF_FONTS = 'functions/adapters/pdf/fonts.ts';

/** Libraries worth keeping out of the functions that do not use them, and the functions that do. */
const LIBRARY_USERS: Record<string, string[]> = {
  // Invoice and credit-note PDFs are written by adapters/pdf (a few KB), not by a PDF library.
  jspdf: [],
  'postal-mime': ['inbound-email'],
  // The local CLI's file import only: an e-mail's CSV attachment is read a line at a time (core/csv-line.ts).
  'csv-parse': [],
  jose: [], // the local OAuth2 issuer's; in AWS API Gateway checks the tokens
  // Traces come from Lambda's and Step Functions' own X-Ray tracing (lib/powertools.ts), not from a bundled SDK.
  'aws-xray-sdk-core': [],
  '@aws-lambda-powertools/tracer': [],
  // The intake's only record is the order: the idempotency utility serves the CRM webhook's events alone.
  '@aws-lambda-powertools/idempotency': ['crm-webhook'],
};

interface FunctionBundle {
  packages: Set<string>;
  inputs: string[];
  /** Files shipped beside the bundle (OrderFunction's `files`). */
  files?: Record<string, string>;
  /** IAM service prefixes the function's role is granted (`dynamodb`, `ses`…). */
  granted: Set<string>;
}
const bundles = new Map<string, FunctionBundle>();
let metafile: Metafile;
/** What each input contributes to a function's bundle (esbuild's metafile), by input path. */
const outputInputs = (name: string) =>
  Object.entries(metafile.outputs).find(([file]) => file.endsWith(`/${name}/index.mjs`))?.[1].inputs ?? {};

beforeAll(async () => {
  const { app, stack } = buildOrderApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties?: any; Metadata?: Record<string, unknown> }>;
  };
  const resources = Object.values(template.Resources);
  const grantedTo = (roleId: string) =>
    new Set(
      resources
        .filter((r) => r.Type === 'AWS::IAM::Policy')
        .filter((r) => (r.Properties.Roles as { Ref?: string }[]).some((role) => role.Ref === roleId))
        .flatMap((r) => r.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
        .flatMap((statement) => [statement.Action].flat())
        .map((action) => action.split(':')[0] as string),
    );
  const functions = resources.flatMap((r) => {
    const entry = r.Metadata?.[ENTRY_METADATA_KEY];
    if (r.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string') return [];
    const name = entry.split('/').at(-2) as string;
    const files = r.Metadata?.[FILES_METADATA_KEY] as Record<string, string> | undefined;
    return [{ name, entry, files, granted: grantedTo(r.Properties.Role['Fn::GetAtt'][0]) }];
  });
  const bundled = await bundleFunctions(Object.fromEntries(functions.map((f) => [f.name, f.entry])));
  const { outputs } = bundled;
  metafile = bundled.metafile;
  for (const f of functions) {
    const output = outputs[f.name];
    if (!output) throw new Error(`no bundle for ${f.name}`);
    bundles.set(f.name, {
      packages: packagesOf(output.inputs),
      inputs: output.inputs,
      files: f.files,
      granted: f.granted,
    });
  }
}, 120_000);

describe('function bundles', () => {
  it('bundles every function of the template', () => {
    expect(bundles.size).toBe(42);
  });

  it('hold an AWS SDK client only where the role is granted its service', () => {
    const ungranted = [...bundles].flatMap(([name, bundle]) =>
      [...bundle.packages]
        .filter((pkg) => pkg.startsWith('@aws-sdk/client-'))
        .filter((pkg) => !bundle.granted.has(SDK_CLIENT_SERVICES[pkg] ?? pkg))
        .map((pkg) => `${name}: ${pkg}`),
    );
    expect(ungranted).toEqual([]);
  });

  it('keep the mailer, the workflow client and the document store to the functions that use them', () => {
    const holding = (pkg: string) => [...bundles].filter(([, b]) => b.packages.has(pkg)).map(([name]) => name);
    // Read models and projections talk to DynamoDB alone.
    for (const name of ['get-order', 'list-orders', 'list-products', 'list-customers', 'get-kpis', 'record-kpi'])
      expect([...(bundles.get(name)?.packages ?? [])].filter((p) => p.startsWith('@aws-sdk/client-'))).toEqual([
        '@aws-sdk/client-dynamodb',
      ]);
    // S3 through the adapter's signed REST calls (adapters/clients/s3.ts), never the SDK's S3 client.
    const s3Users = [...bundles].filter(([, b]) => b.inputs.includes(S3_ADAPTER)).map(([name]) => name);
    expect(s3Users.sort()).toEqual(
      ['finish-credit-notes', 'get-invoice', 'health', 'inbound-email', 'issue-credit-note', 'issue-invoice'].sort(),
    );
    expect(s3Users.filter((name) => !bundles.get(name)?.granted.has('s3'))).toEqual([]);
    expect(holding('@aws-sdk/client-s3')).toEqual([]);
  });

  it('hold the heavy libraries only in the functions that use them', () => {
    for (const [library, users] of Object.entries(LIBRARY_USERS)) {
      const holding = [...bundles].filter(([, b]) => b.packages.has(library)).map(([name]) => name);
      expect({ library, holding: holding.sort() }).toEqual({ library, holding: users });
    }
  });

  it('hold zod without its translations (a namespace import lets the bundler drop them)', () => {
    for (const [name, bundle] of bundles) {
      const locales = bundle.inputs.filter((input) => /zod\/v4\/locales\/(?!en\.js)/.test(input));
      expect({ name, locales }).toEqual({ name, locales: [] });
    }
  });

  it('hold zod/mini, not zod’s classic API, whose methods bring all of zod into a bundle (90 KB against 33)', () => {
    for (const [name, bundle] of bundles) {
      const classic = bundle.inputs.filter((input) => input.includes('node_modules/zod/v4/classic/'));
      expect({ name, classic }).toEqual({ name, classic: [] });
    }
    const bytes = Object.entries(outputInputs('get-order'))
      .filter(([input]) => input.includes('node_modules/zod/'))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(50 * 1024);
  });

  it('hold only the schemas they use: zod stays out of a function that validates nothing', () => {
    // Every schema is built by a call marked pure, so the bundler drops the ones a function never names.
    const holding = [...bundles].filter(([, b]) => b.packages.has('zod')).map(([name]) => name);
    expect(holding).not.toContain('health');
    expect(holding).not.toContain('pre-token-generation');
    expect(holding).toContain('get-order');
    const schemaBytes = (name: string) => outputInputs(name)['functions/core/schemas.ts']?.bytesInOutput ?? 0;
    // get-order names an order id and the schemas its view needs, not the API's request bodies.
    expect(schemaBytes('get-order')).toBeGreaterThan(0);
    expect(schemaBytes('get-order')).toBeLessThan(schemaBytes('openapi') / 2);
  });

  it('ship the font files beside the bundle of every function that writes PDFs, and of no other', () => {
    const writers = [...bundles].filter(([, b]) => b.inputs.includes(PDF_FONTS)).map(([name]) => name);
    expect(writers.sort()).toEqual(['finish-credit-notes', 'issue-credit-note', 'issue-invoice']);
    for (const [name, bundle] of bundles)
      expect({ name, files: bundle.files }).toEqual({
        name,
        files: writers.includes(name) ? FONT_BUNDLE_FILES : undefined,
      });
    // No font is compiled into a bundle: they are read from the files on the first render.
    expect([...bundles].filter(([, b]) => b.inputs.some((input) => /\.ttf$|noto-sans/i.test(input)))).toEqual([]);
    for (const source of Object.values(FONT_BUNDLE_FILES)) expect(statSync(source).size).toBeGreaterThan(50_000);
  });

  it('load the PDF writer and the fonts only by a dynamic import, on the first render', () => {
    const renderer = 'functions/adapters/invoice-pdf.ts';
    const importers = Object.entries(metafile.inputs).flatMap(([path, input]) =>
      input.imports.filter((imported) => imported.path === renderer).map((imported) => `${path} ${imported.kind}`),
    );
    expect(importers.length).toBeGreaterThan(0);
    expect(importers.filter((importer) => !importer.endsWith(' dynamic-import'))).toEqual([]);
  });
});

describe('source maps', () => {
  it('map a stack trace to the TypeScript source without carrying the sources (a smaller map loads faster at INIT)', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundle-map-'));
    try {
      const { outputs } = await bundleFunctions({ 'place-order': 'functions/place-order/handler.ts' }, { outdir });
      const file = outputs['place-order']?.file as string;
      const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sourcesContent).toBeUndefined();
      expect(map.sources.some((source) => source.endsWith('functions/lib/config.ts'))).toBe(true);
      // Without its environment the bundle throws at INIT: the trace names the source line, as in CloudWatch.
      const run = spawnSync(
        process.execPath,
        [
          '--enable-source-maps',
          '--input-type=module',
          '-e',
          'await import(process.argv[1])',
          pathToFileURL(file).href,
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH } },
      );
      expect(run.stderr).toContain('Missing required environment variable');
      expect(run.stderr).toMatch(/functions\/lib\/config\.ts:\d+:\d+/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
