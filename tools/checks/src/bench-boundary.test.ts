// The one exception to "tools never import each other" (docs/architecture.md, eslint.config.mjs):
// the CLI may import the bench suites of tools/bench, and nothing else may; tools/bench imports no
// tool. Planted imports, linted with the workspace's own config, show the rule holds.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '../../..');
// The boundary rule reads Nx's project graph: computed once, without a daemon (as in CI).
process.env.NX_DAEMON = 'false';
before(() => {
  const g = spawnSync(join(root, 'node_modules/.bin/nx'), ['show', 'projects'], { cwd: root, encoding: 'utf8' });
  assert.equal(g.status, 0, `nx show projects:\n${g.stdout}${g.stderr}`);
});

/** The module-boundary messages ESLint gives `code` as if it were the file at `path`. */
async function boundaryErrors(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: root }).lintText(code, { filePath: join(root, path) });
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

const importBench = "import { runBench } from '@flowprune/bench';\nexport const planted = runBench;\n";

test('the CLI may import the bench suites', async () => {
  assert.deepEqual(await boundaryErrors('tools/cli/src/planted.ts', importBench), []);
});

test('no other tool, service or lib may import them', async () => {
  for (const path of ['tools/convert/planted.ts', 'tools/checks/src/planted.ts', 'services/trainer/src/planted.ts', 'libs/training/src/planted.ts']) {
    const errors = await boundaryErrors(path, importBench);
    assert.equal(errors.length, 1, `${path} importing @flowprune/bench: ${errors.join('; ') || 'allowed'}`);
  }
});

test('the bench suites import no tool', async () => {
  const errors = await boundaryErrors('tools/bench/src/planted.ts', "import { DEMO_DEFAULTS } from '../../cli/src/demo.js';\nexport const planted = DEMO_DEFAULTS;\n");
  assert.equal(errors.length, 1, errors.join('; ') || 'tools/bench importing tools/cli was allowed');
});
