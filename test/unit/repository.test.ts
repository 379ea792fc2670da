import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });

describe('the repository', () => {
  it('tracks no dependency tree: node_modules is ignored as a directory and as a link to one', () => {
    expect(git('ls-files', '--', 'node_modules')).toBe('');
    // A path that is not a directory on disk, as a symlink to a shared node_modules is not: a `node_modules/`
    // pattern skips it, and `git add -A` once committed such a link.
    expect(git('check-ignore', '--no-index', 'node_modules', 'examples/node_modules').trim().split('\n')).toEqual([
      'node_modules',
      'examples/node_modules',
    ]);
  });
});
