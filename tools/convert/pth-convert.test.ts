// tools/convert/pth_convert.py: flowprune safetensors → the paper's .pth → safetensors is lossless.
// Runs where a Python with torch exists (Debian: apt-get install python3-torch); skipped otherwise.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tempDir } from '@flowprune/grpc/testing';
import { buildNetwork, Model, parseSafeTensors } from '@flowprune/models';
import { nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { initBackend } from '@flowprune/tensor';

const SCRIPT = join(import.meta.dirname, 'pth_convert.py');
const python = ['python3', '/usr/bin/python3'].find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);

before(async () => {
  await initBackend();
});

function run(args: string[]): string {
  const r = spawnSync(python!, [SCRIPT, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('a pruned ResNet-56 and a MobileNet survive safetensors → .pth → safetensors bit-exactly', { skip: !python && 'no Python with torch' }, () => {
  const dir = tempDir('convert');
  for (const arch of ['resnet56', 'mobilenet_v1'] as const) {
    const model = Model.init(buildNetwork(arch, 100), 3);
    const imp = model.net.filterLayers.map((l, i) => Array.from({ length: l.outChannels }, (_, c) => ((c * 7 + i * 13) % 17) + 1));
    const pruned = pruneStep(model, imp, { ratio: 0.3, pCumulative: nextPCumulative(100, 0.3), originalWidths: originalWidths(model.net) }).model;
    const st = join(dir, `${arch}.safetensors`);
    writeFileSync(st, pruned.toSafeTensors());
    run(['to-pth', st, join(dir, `${arch}.pth`)]);
    // The .pth is what the paper's code loads: {'net': {'module.*': tensor}, 'cfg': config}.
    const keys = spawnSync(python!, ['-c', `import torch; c = torch.load('${join(dir, `${arch}.pth`)}'); print(sorted(c.keys()), next(iter(c['net'])), type(c['cfg']).__name__)`], { encoding: 'utf8' });
    assert.match(keys.stdout, /\['cfg', 'net'\] module\.conv1\.weight (dict|list)/);
    const back = join(dir, `${arch}.back.safetensors`);
    run(['to-safetensors', join(dir, `${arch}.pth`), back, '--arch', arch, '--num-classes', '100']);
    const a = parseSafeTensors(new Uint8Array(readFileSync(st)));
    const b = parseSafeTensors(new Uint8Array(readFileSync(back)));
    assert.deepEqual([...b.tensors.keys()], [...a.tensors.keys()]);
    for (const [k, t] of a.tensors) {
      const u = b.tensors.get(k)!;
      assert.equal(u.dtype, t.dtype, k);
      assert.deepEqual(u.shape, t.shape, k);
      assert.ok(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), `${arch} ${k} bytes`);
    }
    assert.deepEqual(JSON.parse(b.metadata.config), JSON.parse(a.metadata.config));
    const reloaded = Model.fromSafeTensors(new Uint8Array(readFileSync(back)));
    assert.deepEqual(reloaded.net.config, pruned.net.config);
    reloaded.dispose();
    pruned.dispose();
    model.dispose();
  }
});
