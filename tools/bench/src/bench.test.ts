// `flowprune bench` reaches the suites of tools/bench through the CLI, and a suite's worker
// processes start from where they now live. The queue suite is the quick one (no model, no data).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { WORKSPACE } from './paths.js';

test('flowprune bench --suites queue drains the queue with 1 and 4 worker processes and prints the ratio', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(WORKSPACE, 'tools/cli/bin/flowprune.mjs'), 'bench', '--suites', 'queue', '--queue-runs', '6'], {
    encoding: 'utf8',
  });
  assert.match(stdout, /== run queue \(file store\): 6 queued runs/);
  assert.match(stdout, /^1 +[\d.]+ +[\d.]+ ms +[\d.]+ ms +1\.00x$/m, stdout);
  assert.match(stdout, /^4 +[\d.]+ +[\d.]+ ms +[\d.]+ ms +[\d.]+x$/m, stdout);
});
