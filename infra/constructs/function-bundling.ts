import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { AssetHashType, type ILocalBundling } from 'aws-cdk-lib';
import { type AssetCode, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { buildSync, formatMessagesSync } from 'esbuild';
import { copyBundleFiles, LAMBDA_ESBUILD_OPTIONS, ROOT } from '../function-package.ts';

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
