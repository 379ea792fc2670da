import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import { type AssetCode, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync } from 'esbuild';

/** The repository's root: function entries and the files shipped beside bundles are relative to it. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

/**
 * A function's deployment package: `index.mjs` and its map, plus the files it reads beside it. The first
 * function a process bundles builds every `functions/<stage>/handler.ts` in one esbuild run (a module the
 * functions share is read and parsed once, not once per function) and each asset then copies its own
 * output; one esbuild call per function, as NodejsFunction makes through `npx`, cost four times the CPU.
 * esbuild is a development dependency, so bundling never falls back to Docker.
 */
export function functionCode(entry: string, files: Record<string, string> = {}): AssetCode {
  return Code.fromAsset(join(ROOT, dirname(entry)), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: { image: Runtime.NODEJS_24_X.bundlingImage, local: new FunctionBundling(entry, files) },
  });
}

class FunctionBundling implements ILocalBundling {
  // Fields, not closures: CDK's asset cache key is these options serialized, so it differs per function.
  constructor(
    readonly entry: string,
    readonly files: Record<string, string>,
  ) {}

  tryBundle(outputDir: string): boolean {
    const built = join(repositoryBuild(this.entry), dirname(this.entry));
    for (const file of ['index.mjs', 'index.mjs.map']) copyFileSync(join(built, file), join(outputDir, file));
    copyBundleFiles(ROOT, this.files, outputDir);
    return true;
  }
}

let build: { entries: Set<string>; dir: string } | undefined;

/**
 * The directory holding `<folder of the entry>/index.mjs` for every handler of the repository, built once
 * per process. It lies inside the repository, at the same depth in every checkout: a source map names its
 * sources relative to itself, and a path out of the checkout would make the package, and so its asset hash,
 * differ from one machine to the next (a redeploy of unchanged code).
 */
function repositoryBuild(entry: string): string {
  if (build?.entries.has(entry)) return build.dir;
  const entries = new Set(
    readdirSync(join(ROOT, 'functions'))
      .map((stage) => `functions/${stage}/handler.ts`)
      .filter((path) => existsSync(join(ROOT, path))),
  );
  entries.add(entry);
  const cache = join(ROOT, 'node_modules/.cache/sales-orders');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'deployment-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  buildSync({
    ...LAMBDA_ESBUILD_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [...entries].map((path) => ({ in: path, out: `${dirname(path)}/index` })),
    outExtension: { '.js': '.mjs' },
    outdir: dir,
  });
  build = { entries, dir };
  return dir;
}
