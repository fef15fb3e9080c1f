// The lint keeps test helpers out of production code: a lib's testing entry (`@flowprune/<lib>/testing`)
// may be imported by tests and test helpers only (eslint.config.mjs). Checked on planted snippets
// through ESLint's API, with the workspace's own configuration.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '../../..');
const RULE = '@typescript-eslint/no-restricted-imports';
const eslint = new ESLint({ cwd: root });

/** The messages of the testing-entry rule for `code` as if it were the file at `path`. */
async function testingImportErrors(code: string, path: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

const PLANTED = [
  "import { tempDir } from '@flowprune/grpc/testing';",
  "import { fixtureRoot } from '@flowprune/common/testing';",
  'export const used = [tempDir, fixtureRoot];',
  '',
].join('\n');

test('production code that imports a testing entry fails the lint', async () => {
  for (const path of ['tools/cli/src/planted.ts', 'services/trainer/src/planted.ts', 'libs/importance/src/planted.ts']) {
    const errors = await testingImportErrors(PLANTED, path);
    assert.equal(errors.length, 2, `${path}: ${JSON.stringify(errors)}`);
    assert.match(errors[0], /@flowprune\/grpc\/testing.*production code may not import a testing entry/);
  }
});

test('production code in a lib may not reach its own testing folder by a relative path', async () => {
  const errors = await testingImportErrors("import { tempDir } from './testing/index.js';\nexport const d = tempDir;\n", 'libs/grpc/src/planted.ts');
  assert.equal(errors.length, 1, JSON.stringify(errors));
});

test('tests and test helpers may import testing entries', async () => {
  for (const path of ['tools/cli/src/planted.test.ts', 'libs/importance/src/planted.test-util.ts', 'libs/grpc/src/testing/planted.ts', 'libs/onnx/src/testing.ts']) {
    assert.deepEqual(await testingImportErrors(PLANTED, path), [], path);
  }
});
