import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./synth-template.ts', import.meta.url));

/**
 * The deployment's template, synthesized in a process of its own: the CDK app takes about half a
 * gigabyte to build (local/synth-template.ts), which the runtime's process then never holds.
 */
export function synthesizeApart(): Promise<Record<string, unknown>> {
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
