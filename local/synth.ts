import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./synth-template.ts', import.meta.url));
const CACHE_DIR = join(ROOT, 'node_modules/.cache/sales-orders/templates');
/** What the CDK app is built from: its code, the code it imports, the definition, the pinned packages. */
const INPUTS = ['infra', 'functions', 'statemachines', 'local/synth-template.ts', 'package-lock.json', 'cdk.json'];

/**
 * The deployment's template, synthesized in a process of its own: the CDK app takes about half a
 * gigabyte to build (local/synth-template.ts), which the runtime's process then never holds. The
 * template is kept and reused while none of the app's inputs changed (modification times and sizes,
 * and the CDK variables of the environment), so only the first start after an edit pays the synth.
 */
export async function synthesizeApart(): Promise<Record<string, unknown>> {
  const key = inputsKey();
  const cached = join(CACHE_DIR, `${key}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as Record<string, unknown>;
  } catch {
    // not synthesized for these inputs yet
  }
  const template = await synthesize();
  mkdirSync(CACHE_DIR, { recursive: true });
  const temporary = `${cached}.${randomUUID()}`;
  writeFileSync(temporary, JSON.stringify(template));
  renameSync(temporary, cached); // another start may write the same template: whole files only
  return template;
}

function synthesize(): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', SCRIPT],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: process.env },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`Synthesizing the template failed: ${stderr || error.message}`, { cause: error }));
        else resolve(JSON.parse(stdout) as Record<string, unknown>);
      },
    );
  });
}

/** The key of the template for the app's inputs as they are now. */
export function inputsKey(): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    const stat = statSync(join(ROOT, path), { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(join(ROOT, path)).sort()) visit(join(path, name));
      return;
    }
    hash.update(`${path}\0${stat.mtimeMs}\0${stat.size}\n`);
  };
  for (const input of INPUTS) visit(input);
  for (const variable of ['CDK_DEFAULT_ACCOUNT', 'CDK_DEFAULT_REGION', 'CDK_CONTEXT_JSON'])
    hash.update(`${variable}=${process.env[variable] ?? ''}\n`);
  return hash.digest('hex').slice(0, 24);
}
