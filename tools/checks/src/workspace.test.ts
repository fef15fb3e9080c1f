// Whole-workspace checks that belong in `npm test`: strict types and lint (module boundaries).
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '../../..');
const bin = (name: string) => join(root, 'node_modules/.bin', name);

test('TypeScript strict type check passes', () => {
  const r = spawnSync(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc:\n${r.stdout}${r.stderr}`);
});

test('ESLint (with Nx module boundaries) passes', () => {
  // The boundary rule reads Nx's project graph; compute it first (no daemon in CI).
  const env = { ...process.env, NX_DAEMON: 'false' };
  const g = spawnSync(bin('nx'), ['show', 'projects'], { cwd: root, encoding: 'utf8', env });
  assert.equal(g.status, 0, `nx show projects:\n${g.stdout}${g.stderr}`);
  const r = spawnSync(bin('eslint'), ['.', '--max-warnings', '0'], { cwd: root, encoding: 'utf8', env });
  assert.equal(r.status, 0, `eslint:\n${r.stdout}${r.stderr}`);
});
