import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, version as esbuildVersion } from 'esbuild';
import { copyBundleFiles, LAMBDA_ESBUILD_OPTIONS } from '../infra/function-package.ts';

/** Where built bundles are kept between runs (under node_modules, so `require.resolve` finds packages' files). */
const CACHE_DIR = 'node_modules/.cache/sales-orders/functions';
/** Builds not used for this long are removed (a runtime started earlier may still cold-start from one). */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

interface Manifest {
  /** Every input file of the build, with the modification time and size it was built from. */
  inputs: Record<string, [mtimeMs: number, size: number]>;
  /** Entry (relative to the root) to its bundle's file name in the build directory. */
  bundles: Record<string, string>;
}

/**
 * The functions' deployment bundles, as CDK builds them (one self-contained ESM file per handler
 * entry, `LAMBDA_ESBUILD_OPTIONS` without the source map), for the local runtime's execution
 * environments: returns each entry's bundle path. One esbuild run builds them all; the result is
 * reused while none of its input files changed (checked by modification time and size), so only
 * the first start after an edit pays the build. `files` (bundle path -> repository path) are copied
 * beside the bundles, as each function's deployment package has them (OrderFunction's `files`).
 */
export async function functionBundles(
  rootDir: string,
  entries: string[],
  files: Record<string, string> = {},
): Promise<Map<string, string>> {
  const sorted = [...new Set(entries)].sort();
  const key = createHash('sha256')
    .update(
      JSON.stringify({ rootDir: resolve(rootDir), sorted, files, esbuildVersion, options: LAMBDA_ESBUILD_OPTIONS }),
    )
    .digest('hex')
    .slice(0, 16);
  const home = resolve(rootDir, CACHE_DIR, key);
  const current = readCurrent(home);
  if (current && isFresh(rootDir, current.manifest)) {
    touch(current.dir); // in use: not stale for another process's clean-up
    return bundlePaths(current.dir, current.manifest);
  }

  const buildId = `${Date.now()}-${randomUUID().slice(0, 8)}`;
  const dir = join(home, buildId);
  const buildStarted = Date.now();
  const result = await build({
    ...LAMBDA_ESBUILD_OPTIONS,
    // Stack traces point into the bundle; a source map would only cost every cold start its parse.
    sourcemap: false,
    absWorkingDir: resolve(rootDir),
    entryPoints: sorted.map((entry, i) => ({ in: entry, out: `f${i}` })),
    outExtension: { '.js': '.mjs' },
    outdir: dir,
    metafile: true,
  });
  copyBundleFiles(rootDir, files, dir);
  const inputs: Manifest['inputs'] = {};
  for (const input of [...Object.keys(result.metafile.inputs), ...Object.values(files)]) {
    const stat = statSync(resolve(rootDir, input));
    // A file saved while the build ran may not be in it: recorded as never matching, so the next start rebuilds.
    inputs[input] = stat.mtimeMs >= buildStarted - 1_000 ? [-1, -1] : [stat.mtimeMs, stat.size];
  }
  const manifest: Manifest = { inputs, bundles: Object.fromEntries(sorted.map((entry, i) => [entry, `f${i}.mjs`])) };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  // Another runtime may build at the same time: each writes its own directory, the last pointer wins.
  const pointer = join(home, `current.${buildId}`);
  writeFileSync(pointer, buildId);
  renameSync(pointer, join(home, 'current'));
  removeStaleBuilds(home, buildId);
  return bundlePaths(dir, manifest);
}

function readCurrent(home: string): { dir: string; manifest: Manifest } | undefined {
  try {
    const dir = join(home, readFileSync(join(home, 'current'), 'utf8').trim());
    return { dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest };
  } catch {
    return undefined;
  }
}

function isFresh(rootDir: string, manifest: Manifest): boolean {
  return Object.entries(manifest.inputs).every(([input, [mtimeMs, size]]) => {
    try {
      const stat = statSync(resolve(rootDir, input));
      return stat.mtimeMs === mtimeMs && stat.size === size;
    } catch {
      return false;
    }
  });
}

function bundlePaths(dir: string, manifest: Manifest): Map<string, string> {
  return new Map(Object.entries(manifest.bundles).map(([entry, file]) => [entry, join(dir, file)]));
}

/** Removes builds nobody used for a day; another process may be removing them too. */
function removeStaleBuilds(home: string, keep: string): void {
  mkdirSync(home, { recursive: true });
  for (const entry of readdirSync(home, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === keep) continue;
    const path = join(home, entry.name);
    try {
      if (Date.now() - statSync(path).mtimeMs > STALE_BUILD_MS) rmSync(path, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function touch(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    // removed meanwhile by another process: its files were read already
  }
}
