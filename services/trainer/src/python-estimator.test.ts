// An estimator written in Python from the contract alone (examples/estimators/python: FPGM with
// numpy, grpcio, protobuf) runs as its own process next to the four services; a real pruning run
// with its measure `fpgm` prunes, channel for channel, what its scores select. Skipped, saying
// why, where python3 with grpc, protobuf and numpy or protoc is missing (Debian: python3-grpcio
// python3-protobuf python3-numpy protobuf-compiler).
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, waitForReady, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { Model, networkOf, parseSafeTensors, prunableLayers } from '@flowprune/models';
import { ImportanceEstimatorServiceClient, TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';
import { defaultRatios, nextPCumulative, originalWidths, pruneStep } from '@flowprune/pruning';
import { FileRunStore } from '@flowprune/store';
import { initBackend } from '@flowprune/tensor';

const root = join(import.meta.dirname, '../../..');
const example = join(root, 'examples/estimators/python');
const entry = (service: string) => join(import.meta.dirname, '../..', service, 'src/main.ts');

/** A python3 that has grpc, protobuf and numpy (FLOWPRUNE_PYTHON first; pyenv shims may hide Debian's), or why there is none. */
function findPython(): { python?: string; missing?: string } {
  if (spawnSync('protoc', ['--version']).status !== 0) return { missing: 'protoc is not installed (Debian: protobuf-compiler)' };
  const candidates = [process.env.FLOWPRUNE_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of candidates) if (spawnSync(python, ['-c', 'import grpc, google.protobuf, numpy']).status === 0) return { python };
  return { missing: `no python3 with grpc, protobuf and numpy (tried ${candidates.join(', ')}; Debian: python3-grpcio python3-protobuf python3-numpy)` };
}
const { python, missing } = findPython();

const procs: LaunchedService[] = [];
let estimatorProcess: ChildProcess | undefined;
let fpgmAddress: string;
let trainer: TrainerServiceClient;
let runsDir: string;

/** Starts the Python estimator on a free port; resolves with the address it prints once listening. */
function startPythonEstimator(gen: string): Promise<string> {
  const child = spawn(python!, [join(example, 'fpgm_estimator.py'), '--address', '127.0.0.1:0', '--gen', gen], { stdio: ['ignore', 'pipe', 'inherit'] });
  estimatorProcess = child;
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the Python estimator exited with ${code} before listening: ${out}`)));
  });
}

before(async () => {
  if (missing) return;
  const dir = tempDir('python-estimator');
  runsDir = join(dir, 'runs');
  const gen = join(dir, 'gen');
  const generated = spawnSync('sh', [join(example, 'generate.sh'), gen], { encoding: 'utf8' });
  assert.equal(generated.status, 0, `generate.sh: ${generated.stderr}`);
  fpgmAddress = await startPythonEstimator(gen);
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 4, testPerClass: 2, seed: 11 });
  const loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const [builtin, evaluator] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: entry('importance-estimator'), args: ['--store', runsDir, '--data-loader', loader.address] }),
    launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address] }),
  ]);
  procs.push(builtin, evaluator);
  // The built-in estimator first: `fpgm` is found only by asking the Python one.
  const t = await launchService({
    name: 'trainer',
    entry: entry('trainer'),
    args: ['--store', runsDir, '--data-loader', loader.address, '--evaluator', evaluator.address, '--estimator', builtin.address, fpgmAddress],
  });
  procs.push(t);
  trainer = makeClient(TrainerServiceClient, t.address);
  await initBackend({ log: () => undefined });
});

after(async () => {
  trainer?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.ok(codes.every((c) => c === 0), `services exit cleanly: ${codes}`);
  if (estimatorProcess && estimatorProcess.exitCode === null) {
    const exited = new Promise((resolve) => estimatorProcess!.once('exit', resolve));
    estimatorProcess.kill('SIGTERM');
    await exited;
  }
});

/** FPGM computed here from the weights, as the reference for the Python numbers. */
function fpgmReference(weight: Float32Array, out: number): number[] {
  const fan = weight.length / out;
  return Array.from({ length: out }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < out; j++) {
      let d = 0;
      for (let k = 0; k < fan; k++) d += (weight[i * fan + k] - weight[j * fan + k]) ** 2;
      sum += Math.sqrt(d);
    }
    return sum;
  });
}

test('a run pruned by the Python FPGM estimator keeps, channel for channel, what its scores select', { skip: missing }, async () => {
  const spec = runSpec({
    name: 'fpgm',
    arch: 'resnet56',
    dataset: { name: 'syn' },
    seed: 2,
    measure: 'fpgm',
    prunePercent: 50,
    nRounds: 1,
    lrPrune: 0.05,
    schedule: [{ lr: 0.05, epochs: 1 }],
    batchSize: 20,
    evalBatchSize: 20,
  });
  const { runId } = await call(trainer, trainer.startRun, { spec });
  const events: RunEvent[] = [];
  for await (const m of trainer.watchRun({ runId })) events.push((m as WatchRunResponse).event!);
  const failed = events.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  const round = events.find((e) => e.round)!.round!;
  assert.equal(round.measure, 'fpgm');
  assert.equal(round.estimator, `fpgm-python@${fpgmAddress}`, 'estimated by the Python process');

  // The scores the Python estimator gives for the checkpoint the round estimated, asked directly.
  const store = new FileRunStore({ root: runsDir });
  const trainedBytes = (await store.getCheckpoint(runId, 'round1-trained'))!.bytes;
  const manifest = prunableLayers(networkOf(trainedBytes).filterLayers);
  const client = makeClient(ImportanceEstimatorServiceClient, fpgmAddress);
  await waitForReady(client);
  const answer = await call(client, client.estimate, { model: { safetensors: Buffer.from(trainedBytes) }, measure: 'fpgm', params: {}, batches: [], seed: 0, epoch: 0, layers: manifest });
  client.close();
  const byConv = new Map(answer.layers.map((l) => [l.conv, l.values]));
  const scores = manifest.map((l) => byConv.get(l.conv)!);
  const weights = parseSafeTensors(trainedBytes).tensors;
  manifest.forEach((l, i) => {
    const ref = fpgmReference(weights.get(l.conv)!.data as Float32Array, l.outChannels);
    for (let c = 0; c < ref.length; c++) assert.ok(Math.abs(scores[i][c] - ref[c]) <= 1e-9 * ref[c], `${l.conv}[${c}]: Python ${scores[i][c]}, reference ${ref[c]}`);
  });

  // The pruning library's selection from those scores, applied to the same trained model...
  const trained = Model.fromSafeTensors(trainedBytes);
  const ratio = defaultRatios(0.5, 1)[0];
  const res = pruneStep(trained, scores, { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(trained.net) });
  assert.deepEqual(round.channels, res.plan.kept.map((k) => k.length));
  // ...is the run's pruned model, tensor for tensor (every kept channel, in order).
  const expected = parseSafeTensors(res.model.toSafeTensors()).tensors;
  const pruned = parseSafeTensors((await store.getCheckpoint(runId, 'round1-pruned'))!.bytes).tensors;
  assert.deepEqual([...pruned.keys()].sort(), [...expected.keys()].sort());
  for (const l of manifest) {
    assert.deepEqual(pruned.get(l.conv)!.shape, expected.get(l.conv)!.shape, `${l.conv} shape`);
    assert.deepEqual(pruned.get(l.conv)!.data, expected.get(l.conv)!.data, `${l.conv} weights`);
  }
  // The check discriminates: negated scores select other channels.
  const negated = pruneStep(trained, scores.map((s) => s.map((v) => -v)), { ratio, pCumulative: nextPCumulative(100, ratio), originalWidths: originalWidths(trained.net) });
  assert.notDeepEqual(negated.plan.kept, res.plan.kept);
  for (const m of [negated.model, res.model, trained]) m.dispose();
});
