import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { copyBundleFiles, LAMBDA_ESBUILD_OPTIONS } from '../../infra/function-package.ts';

/**
 * Bundles function entries (e.g. `functions/get-order/handler.ts`) in one esbuild run. Without
 * `outdir` nothing is written: the metafile alone says what each bundle holds. With it, `files`
 * (function name -> bundle path -> repository path) are copied beside each function's bundle, as its
 * deployment package has them.
 */
export async function bundleFunctions(
  entries: Record<string, string>,
  options: { outdir?: string; files?: Record<string, Record<string, string> | undefined> } = {},
): Promise<{ metafile: Metafile; outputs: Record<string, { file: string; bytes: number; inputs: string[] }> }> {
  const result = await build({
    ...LAMBDA_ESBUILD_OPTIONS,
    entryPoints: Object.entries(entries).map(([name, entry]) => ({ in: entry, out: `${name}/index` })),
    outExtension: { '.js': '.mjs' },
    outdir: options.outdir ?? 'lambda-bundles',
    write: options.outdir !== undefined,
    // Only the metafile is wanted when nothing is written: the same inputs, without the map's cost.
    ...(options.outdir === undefined ? { sourcemap: false } : {}),
    metafile: true,
  });
  const { outdir } = options;
  for (const [name, files] of outdir === undefined ? [] : Object.entries(options.files ?? {}))
    copyBundleFiles('.', files ?? {}, join(outdir as string, name));
  const outputs: Record<string, { file: string; bytes: number; inputs: string[] }> = {};
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('/index.mjs')) continue; // source maps
    const name = file.split('/').at(-2) as string;
    outputs[name] = { file, bytes: output.bytes, inputs: Object.keys(output.inputs) };
  }
  return { metafile: result.metafile, outputs };
}

/** The npm packages a bundle holds, by name (`@aws-sdk/client-s3`, `jspdf`), from its inputs' paths. */
export function packagesOf(inputs: string[]): Set<string> {
  const packages = new Set<string>();
  for (const input of inputs) {
    const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input.slice(input.lastIndexOf('node_modules/')));
    if (match?.[1]) packages.add(match[1]);
  }
  return packages;
}
