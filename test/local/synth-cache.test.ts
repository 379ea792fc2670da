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
