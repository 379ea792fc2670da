import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/**
 * What a function's deployment package is, for the CDK stack that builds it and for the local runtime and
 * the bench that read it back from the template. Nothing here imports aws-cdk-lib: the local runtime's
 * process would otherwise load several hundred of its modules (about a second of CPU at every start) for
 * a few constants.
 */

/** The repository's root: function entries and the files shipped beside bundles are relative to it. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Where the local runtime finds a function's source: the template records it, nothing is declared twice. */
export const ENTRY_METADATA_KEY = 'sales:entry';
/** The files a function reads beside its bundle (bundle path -> repository path), for the local runtime and the bench. */
export const FILES_METADATA_KEY = 'sales:files';

/**
 * How every function is bundled, the one definition the deployment, the local runtime, the bundle bench
 * and the bundle tests build with: one self-contained ESM file per function, minified, with a source map
 * that holds the mappings but not the sources (stack traces name the TypeScript line either way; Node reads
 * and indexes the map at INIT when `--enable-source-maps` is on, and the sources were 70% of it).
 */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
  },
  // Bundle the pinned AWS SDK rather than the runtime's copy: the versions tested are the versions run.
  external: [],
  logLevel: 'silent',
} satisfies BuildOptions;

/** Copies files (bundle path -> repository path) beside a bundle, as a function's deployment package has them. */
export function copyBundleFiles(rootDir: string, files: Record<string, string>, dir: string): void {
  for (const [target, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, target)), { recursive: true });
    copyFileSync(resolve(rootDir, source), join(dir, target));
  }
}
