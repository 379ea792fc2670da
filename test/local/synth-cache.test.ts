import { execFileSync } from 'node:child_process';
import { statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT_DIR } from '../../local/runtime.ts';
import { inputsKey } from '../../local/synth.ts';

describe('the local runtime’s synthesized template', () => {
  it('is reused while the app’s inputs are unchanged, and synthesized again after one changes', () => {
    const definition = join(ROOT_DIR, 'statemachines/order-workflow.asl.json');
    // Whole milliseconds, so putting the time back below restores it exactly.
    const { atime, mtimeMs } = statSync(definition);
    const mtime = new Date(Math.floor(mtimeMs));
    utimesSync(definition, atime, mtime);
    const key = inputsKey();
    expect(inputsKey()).toBe(key);
    try {
      utimesSync(definition, atime, new Date(mtime.getTime() + 1_000)); // an edit of the state machine
      expect(inputsKey()).not.toBe(key);
    } finally {
      utimesSync(definition, atime, mtime);
    }
    expect(inputsKey()).toBe(key);
    process.env.CDK_CONTEXT_JSON = '{"stackName":"Other"}';
    try {
      expect(inputsKey()).not.toBe(key);
    } finally {
      delete process.env.CDK_CONTEXT_JSON;
    }
  });
});

describe('the local runtime’s process', () => {
  it('never loads aws-cdk-lib: the template is synthesized in a child process, the constants it shares with the stack are CDK-free', () => {
    // Several hundred of aws-cdk-lib's modules, about a second of CPU at every start, for a few constants.
    const script = `
      await import('./local/runtime.ts');
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      process.stdout.write(JSON.stringify({ modules: loaded.length, cdk: loaded.filter((path) => path.includes('/node_modules/aws-cdk-lib/')) }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT_DIR,
      encoding: 'utf8',
    });
    const { modules, cdk } = JSON.parse(out) as { modules: number; cdk: string[] };
    expect(modules).toBeGreaterThan(100); // the runtime's own dependencies (emulators, interpreter) are in the list
    expect(cdk).toEqual([]);
  });
});
