// Runs of imported models: a run file's `model:` (an .onnx imported on the fly, a safetensors from
// `flowprune import`, or a stored checkpoint) becomes RunSpec.pretrained; and, end to end through the
// four services, the example run file trains torchvision's MobileNet-V2 on Fashion-MNIST, prunes it
// by the generic policy and reports its measured latency, while a model whose input does not fit
// the dataset is refused in one line naming both.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { IDX_SYSTEM_DIRS } from '@flowprune/data';
import { tempDir } from '@flowprune/grpc/testing';
import { GRAPH_ARCH, GRAPH_METADATA_KEY, parseSafeTensors } from '@flowprune/models';
import { FileRunStore } from '@flowprune/store';
import { readRunFile, RunFileError, specFromObject } from './run-file.js';
import { startStack, type Stack } from './stack.js';

const ROOT = join(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'tools/cli/bin/flowprune.mjs');
const EXAMPLE = join(ROOT, 'tools/cli/examples/imported-mobilenet-v2-fashion-mnist.yaml');
const TORCHVISION = 'libs/onnx/testdata/torchvision';
const FASHION = IDX_SYSTEM_DIRS['fashion-mnist'] ?? '';
const dir = tempDir('imported-run');
let stack: Stack | undefined;
after(async () => {
  await stack?.stop();
});

/** specFromObject from the repository root, where run files' model paths are resolved. */
const parse = (obj: Record<string, unknown>) => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return specFromObject(obj, 'run.yaml').spec;
  } finally {
    process.chdir(cwd);
  }
};

test('model: an .onnx file is imported into the spec’s starting weights, its graph in their metadata; no arch', () => {
  const spec = parse({ model: `${TORCHVISION}/mobilenet_v2.onnx`, dataset: 'x' });
  assert.equal(spec.arch, '');
  const file = parseSafeTensors(spec.pretrained!.safetensors!, 'pretrained');
  assert.equal(file.metadata.arch, GRAPH_ARCH);
  assert.equal(JSON.parse(file.metadata[GRAPH_METADATA_KEY]).input.channels, 3);
});

test('model: a safetensors file travels as it is; a stored checkpoint by reference', () => {
  const path = join(dir, 'm.safetensors');
  const bytes = parse({ model: `${TORCHVISION}/densenet121.onnx` }).pretrained!.safetensors!;
  writeFileSync(path, bytes);
  assert.deepEqual(new Uint8Array(parse({ model: path }).pretrained!.safetensors!), new Uint8Array(bytes));
  assert.deepEqual(parse({ model: { run: 'r1', checkpoint: 'final' } }).pretrained, { checkpoint: { runId: 'r1', name: 'final' } });
});

test('model: refused with arch, as a bad value, a missing file or a file that is not ONNX', () => {
  const refused = (obj: Record<string, unknown>, re: RegExp) => assert.throws(() => parse(obj), (e: Error) => e instanceof RunFileError && re.test(e.message), JSON.stringify(obj));
  refused({ arch: 'vgg13', model: `${TORCHVISION}/densenet121.onnx` }, /model and arch both given/);
  refused({ model: 5 }, /model must be a file .* or a stored checkpoint \{run: <id>, checkpoint: <name>\}, got 5/);
  refused({ model: { run: 'r1' } }, /model must be a file/);
  refused({ model: join(dir, 'absent.onnx') }, /model: cannot read .*absent\.onnx/);
  const junk = join(dir, 'junk.onnx');
  writeFileSync(junk, 'not a protobuf');
  refused({ model: junk }, /model: .*junk\.onnx/);
});

test('the example run file names an imported torchvision model and the Fashion-MNIST it fits', () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const { spec, extras } = readRunFile(EXAMPLE);
    assert.equal(spec.arch, '');
    assert.equal(parseSafeTensors(spec.pretrained!.safetensors!, 'model').metadata.imported_from, `${TORCHVISION}/mobilenet_v2.onnx`);
    assert.equal(extras.datasets['fashion-mnist'], FASHION);
  } finally {
    process.chdir(cwd);
  }
});

const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });

test(
  'end to end: the imported MobileNet-V2 trains on Fashion-MNIST, is pruned by the generic policy, and the report shows its measured latency',
  { skip: !existsSync(FASHION) && 'dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)' },
  async () => {
    const store = join(dir, 'runs');
    stack = await startStack({ datasets: [`fashion-mnist=${FASHION}`], storeDir: store });
    const trainer = stack.trainer.address;
    const r = cli(['run', EXAMPLE, '--trainer', trainer]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /latency p50, onnxruntime b=1\s*│\s*[\d.]+ ms\s*│\s*│\s*[\d.]+ ms \([\d.]+×\)/);
    assert.match(r.stderr, /round 1: pruned [\d.]+% of channels with mag_based/);
    const [run] = await new FileRunStore({ root: store }).listRuns({ status: 'completed' });
    assert.equal(run.model, GRAPH_ARCH);
    const summary = run.summary as { parametersBefore: number; parametersAfter: number; latency?: unknown };
    assert.ok(summary.parametersAfter < summary.parametersBefore, `${summary.parametersAfter} < ${summary.parametersBefore}`);
    assert.ok(summary.latency, 'latency measured before and after');
    const html = join(dir, 'report.html');
    const report = cli(['report', run.id, '--store', store, '--out', html]);
    assert.equal(report.status, 0, report.stderr);
    assert.match(readFileSync(html, 'utf8'), new RegExp(run.id));

    // torchvision's ResNet-18 as exported for 1×28×28 images does not fit the served 3×32×32: refused, one line.
    const bad = join(dir, 'resnet18-fashion.yaml');
    writeFileSync(bad, readFileSync(EXAMPLE, 'utf8').replace('mobilenet_v2.onnx', 'resnet18.onnx'));
    const refused = cli(['run', bad, '--trainer', trainer]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /spec\.dataset: model spec\.pretrained \(imported\) takes 1×28×28 images and predicts 10 classes, but dataset fashion-mnist has 3×32×32 images and 10 classes/);
    assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  },
);
