// The paper's full pipeline end to end (warmup, 2 pruning rounds, final training) and recovery:
// `kill -9` of the trainer mid-run, a new trainer process takes the run over once its lease expired
// and resumes it → the same final weights as the uninterrupted run (same seed, same backend).
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { tempDir } from '@flowprune/grpc/testing';
import { parseSafeTensors } from '@flowprune/models';
import { TrainerServiceClient, type RunEvent, type WatchRunResponse } from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';

const entry = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
// Bit-identical reruns need a deterministic backend: wasm is; the multi-threaded native backend's
// reductions are not bitwise reproducible run to run (see README), so this test pins wasm.
const env = { FLOWPRUNE_BACKEND: 'wasm' };
const procs: LaunchedService[] = [];
let runsDir = '';
let trainerArgs: string[] = [];

const spec = runSpec({
  name: 'e2e',
  arch: 'resnet56',
  dataset: { name: 'syn' },
  seed: 7,
  measure: 'mag_based',
  prunePercent: 50,
  nRounds: 2,
  warmupEpochs: 2,
  lrPrune: 0.05,
  // [5 − rounds − warmup, 1] final epochs: 1 warmup + 2 rounds + 2 final = 5 epochs.
  schedule: [
    { lr: 0.05, epochs: 5 },
    { lr: 0.005, epochs: 1 },
  ],
  batchSize: 25,
  evalBatchSize: 50,
  preserveMomentum: true,
  augment: true,
});

before(async () => {
  const dir = tempDir('resume');
  runsDir = join(dir, 'runs');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 10, testPerClass: 5, seed: 12 });
  const loader = await launchService({ name: 'data-loader', entry: entry('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`], env });
  const [est, ev] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: entry('importance-estimator'), args: ['--store', runsDir], env }),
    launchService({ name: 'evaluator', entry: entry('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address], env }),
  ]);
  procs.push(loader, est, ev);
  // A short lease: the killed trainer's run is taken over within seconds.
  trainerArgs = ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address, '--lease', '3', '--renew', '0.5', '--poll', '0.2'];
});

after(async () => {
  await Promise.all(procs.reverse().map((p) => p.stop()));
});

async function startTrainer(): Promise<{ proc: LaunchedService; client: TrainerServiceClient }> {
  const proc = await launchService({ name: 'trainer', entry: entry('trainer'), args: trainerArgs, onOutput: () => undefined, env });
  return { proc, client: makeClient(TrainerServiceClient, proc.address) };
}

async function watch(client: TrainerServiceClient, runId: string, until?: (e: RunEvent) => boolean): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  const stream = client.watchRun({ runId });
  for await (const m of stream) {
    const e = (m as WatchRunResponse).event!;
    events.push(e);
    if (until?.(e)) {
      stream.cancel();
      break;
    }
  }
  return events;
}

async function finalTensors(runId: string): Promise<Map<string, Buffer>> {
  const cp = await new FileRunStore({ root: runsDir }).getCheckpoint(runId, 'final');
  assert.ok(cp, `run ${runId} has a final checkpoint`);
  const file = parseSafeTensors(cp.bytes);
  return new Map([...file.tensors].map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
}

test('full pipeline, then kill -9 mid-run and automatic takeover: same final weights as the uninterrupted run', async () => {
  // The uninterrupted reference run.
  let t = await startTrainer();
  const { runId: refId } = await call(t.client, t.client.startRun, { spec });
  const ref = await watch(t.client, refId);
  const failed = ref.find((e) => e.failed);
  assert.equal(failed, undefined, failed?.failed?.message);
  const summary = ref.at(-1)!.finished!.summary!;
  assert.deepEqual([...new Set(ref.filter((e) => e.epoch).map((e) => e.epoch!.phase))], ['warmup', 'pruning_and_training', 'final_training']);
  assert.equal(ref.filter((e) => e.round).length, 2, 'two pruning rounds');
  assert.ok(Math.abs(ref.filter((e) => e.round).at(-1)!.round!.prunedFraction - 0.5) < 0.15, 'about half the channels pruned');
  assert.ok(summary.flopsAfter < summary.flopsBefore);
  const store = new FileRunStore({ root: runsDir });
  const refRecord = (await store.getRun(refId))!;
  assert.deepEqual([...new Set(refRecord.stats.map((s) => s.phase))], ['warmup', 'pruning_and_training', 'final_training'], 'stored stats have all three phases');

  // The same run, killed with SIGKILL once the snapshot after epoch 2 (the second round) is stored.
  const { runId } = await call(t.client, t.client.startRun, { spec });
  await watch(t.client, runId, (e) => e.stage?.detail === 'resume state after epoch 2');
  t.proc.child.kill('SIGKILL');
  await new Promise((r) => t.proc.child.once('exit', r));
  t.client.close();
  assert.equal((await store.getRun(runId))!.status, 'running', 'the killed run is left running in the store');

  t = await startTrainer();
  const rest = await watch(t.client, runId);
  assert.ok(rest.at(-1)?.finished, rest.at(-1)?.failed?.message ?? 'resumed run finishes');
  const resumedAt = rest.find((e) => e.stage?.stage === 'resume')?.stage?.detail ?? assert.fail('the new trainer resumed the run');
  const [, next, total] = /resumed before epoch (\d+) of (\d+)/.exec(resumedAt)!.map(Number);
  assert.ok(next >= 3 && next < total, `resumes at epoch ${next} of ${total}`);
  const a = await finalTensors(refId);
  const b = await finalTensors(runId);
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `final ${k} differs after resume`);
  const rec = (await store.getRun(runId))!;
  assert.equal(rec.status, 'completed');
  assert.equal(rec.stats.length, refRecord.stats.length, 'no epoch stat lost or duplicated');
  await assert.rejects(call(t.client, t.client.resumeRun, { runId }), /already completed/);
  t.client.close();
  await t.proc.stop();
});
