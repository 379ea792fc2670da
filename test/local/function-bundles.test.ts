import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { functionBundles } from '../../local/function-bundles.ts';

const roots: string[] = [];
/** A project with one handler, saved `agoMs` before now. */
function project(source: string, agoMs: number): string {
  const root = mkdtempSync(join(tmpdir(), 'function-bundles-'));
  roots.push(root);
  save(root, source, agoMs);
  return root;
}
function save(root: string, source: string, agoMs: number): void {
  writeFileSync(join(root, 'handler.ts'), source);
  const at = new Date(Date.now() - agoMs);
  utimesSync(join(root, 'handler.ts'), at, at);
}
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const answerOf = async (path: string) =>
  ((await import(`${pathToFileURL(path).href}?t=${Date.now()}`)) as { answer: number }).answer;

describe('function bundles for the local runtime', () => {
  it('builds once, reuses the build while its inputs are unchanged, and rebuilds after an edit', async () => {
    const root = project('export const answer: number = 1;\n', 120_000);
    const first = (await functionBundles(root, ['handler.ts'])).get('handler.ts') as string;
    expect(await answerOf(first)).toBe(1);
    expect((await functionBundles(root, ['handler.ts'])).get('handler.ts')).toBe(first);

    save(root, 'export const answer: number = 22;\n', 60_000);
    const edited = (await functionBundles(root, ['handler.ts'])).get('handler.ts') as string;
    expect(edited).not.toBe(first);
    expect(await answerOf(edited)).toBe(22);
  });

  it('does not trust a build for a file saved while it ran: the next start builds again', async () => {
    // Saved "now": as if while esbuild read it, so the build may hold the older text.
    const root = project('export const answer: number = 3;\n', 0);
    const first = (await functionBundles(root, ['handler.ts'])).get('handler.ts') as string;
    const second = (await functionBundles(root, ['handler.ts'])).get('handler.ts') as string;
    expect(second).not.toBe(first);
    expect(await answerOf(second)).toBe(3);
  });
});
