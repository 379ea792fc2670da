import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import { type AssetCode, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync, formatMessagesSync } from 'esbuild';

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
 * function an app bundles builds every `functions/<stage>/handler.ts` in one esbuild run (a module the
 * functions share is read and parsed once, not once per function) and each asset then writes its own
 * output; one esbuild call per function, as NodejsFunction makes through `npx`, cost four times the CPU.
 * esbuild is a development dependency, so bundling never falls back to Docker.
 */
export function functionCode(entry: string, files: Record<string, string> = {}): AssetCode {
  // Checked here, as NodejsFunction did: a synthesis without bundling (the tests, the local runtime) would not notice.
  if (!existsSync(join(ROOT, entry))) throw new Error(`No function code at ${entry}`);
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
    // CDK bundles into a directory of the cloud assembly: one build per assembly, so a second one sees edits.
    const outputs = repositoryBuild(dirname(outputDir), this.entry);
    for (const file of ['index.mjs', 'index.mjs.map']) {
      const contents = outputs.get(`${dirname(this.entry)}/${file}`);
      if (!contents) throw new Error(`esbuild wrote no ${file} for ${this.entry}`);
      writeFileSync(join(outputDir, file), contents);
    }
    copyBundleFiles(ROOT, this.files, outputDir);
    return true;
  }
}

/**
 * Where the bundles would lie, inside the repository and at the same depth in every checkout. Nothing is
 * written there (the outputs stay in memory), but a source map names its sources relative to it: a
 * path out of the checkout would make the package, and so its asset hash, differ from one machine to the
 * next (a redeploy of unchanged code).
 */
export const BUILD_DIR = join(ROOT, 'node_modules/.cache/sales-orders/deployment');

let build: { assembly: string; entries: Set<string>; outputs: Map<string, Uint8Array> } | undefined;

/** Every handler of the repository, bundled once per cloud assembly: `<folder of the entry>/index.mjs` (and `.map`) to its bytes. */
function repositoryBuild(assembly: string, entry: string): Map<string, Uint8Array> {
  if (build?.assembly === assembly && build.entries.has(entry)) return build.outputs;
  const entries = new Set(
    readdirSync(join(ROOT, 'functions'))
      .map((stage) => `functions/${stage}/handler.ts`)
      .filter((path) => existsSync(join(ROOT, path))),
  );
  entries.add(entry);
  const result = buildSync({
    ...LAMBDA_ESBUILD_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [...entries].map((path) => ({ in: path, out: `${dirname(path)}/index` })),
    outExtension: { '.js': '.mjs' },
    outdir: BUILD_DIR,
    write: false,
  });
  // The options keep esbuild quiet for the local runtime; a deployment shows what it would have printed.
  if (result.warnings.length > 0)
    process.stderr.write(formatMessagesSync(result.warnings, { kind: 'warning', color: false }).join(''));
  const outputs = new Map(
    result.outputFiles.map((file) => [relative(BUILD_DIR, file.path).split(sep).join('/'), file.contents]),
  );
  build = { assembly, entries, outputs };
  return outputs;
}
