// The run loop on an imported model (arch "graph"): the network comes from the model, not from an
// architecture name; it is pruned by the generic policy (docs/pruning-semantics.md), its
// checkpoints carry the graph, and a run stopped after its first snapshot resumes to the same
// weights. The imported model here is MobileNet-V1's graph as a graph-only network (what an ONNX
// import yields), over in-memory ports as in run-loop.test.ts.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { buildNetwork, countFlops, countParameters, GRAPH_ARCH, graphNetwork, Model, parseSafeTensors } from '@flowprune/models';
import { originalWidths, pruneStep } from '@flowprune/pruning';
import { initBackend } from '@flowprune/tensor';
import type { PixelBatch } from './batch.js';
import { evaluateModel } from './evaluate.js';
import type { RunEventBody } from './events.js';
import { RunCancelled, runPruneTrain, type RunPorts } from './prune-train-run.js';
import { resolveRunConfig, runNetwork, RunConfigError } from './run-config.js';
import { decodeBuffers, encodeBuffers, type RunSnapshot } from './snapshot.js';

before(async () => {
  process.env.FLOWPRUNE_BACKEND = 'wasm';
  await initBackend({ log: () => undefined });
});

const imported = graphNetwork(buildNetwork('mobilenet_v1', 10).graph);

const cfg = resolveRunConfig({
  arch: GRAPH_ARCH,
  numClasses: imported.numClasses,
  dataset: 'in-memory',
  seed: 3,
  measure: 'bn_gamma',
  pruneRatio: 0.5,
  nRounds: 1,
  lrPrune: 0.05,
  schedule: [{ lr: 0.05, epochs: 2 }],
  batchSize: 4,
  evalBatchSize: 4,
  preserveMomentum: true,
});

function batches(epoch: number, n: number, salt: number): AsyncIterable<PixelBatch> {
  return (async function* () {
    for (let i = 0; i < n; i++)
      yield {
        count: 4,
        height: 32,
        width: 32,
        channels: 3,
        pixels: Uint8Array.from({ length: 4 * 3072 }, (_, j) => (j * 31 + i * 7 + epoch * 13 + salt) % 256),
        labels: Array.from({ length: 4 }, (_, j) => (j + i + epoch) % 10),
      };
  })();
}

interface StoredSnapshot {
  progress: string;
  model: Uint8Array;
  buffers: Uint8Array;
}

/** |γ| of each filter layer's BatchNorm, read from a stored checkpoint. */
function bnGamma(model: Model): number[][] {
  const state = model.stateDict();
  return model.net.filterLayers.map((l) => Array.from(state.get(`${l.bn}.weight`)!.data as Float32Array, Math.abs));
}

function memoryPorts(opts: { resume?: RunSnapshot; stopAfterSnapshots?: number }) {
  const checkpoints = new Map<string, Uint8Array>();
  const snapshots: StoredSnapshot[] = [];
  const events: RunEventBody[] = [];
  const load = (name: string) => Model.fromSafeTensors(checkpoints.get(name)!, {}, name);
  const ports: RunPorts = {
    backend: 'wasm',
    trainBatchCount: 2,
    trainBatches: (epoch) => batches(epoch, 2, 0),
    testBatches: () => batches(0, 1, 101),
    importedNetwork: imported,
    initialModel: opts.resume ? undefined : Model.init(imported, 5),
    resume: opts.resume,
    saveCheckpoint: async (model, name) => {
      checkpoints.set(name, model.toSafeTensors());
      return name;
    },
    evaluateCheckpoint: async (name) => {
      const model = load(name);
      const r = await evaluateModel(model, batches(0, 1, 101), cfg.temperature);
      const out = { accuracy: r.accuracy, flops: countFlops(model.net), parameters: countParameters(model.net), compressionRatio: 1 };
      model.dispose();
      return out;
    },
    estimate: async (name) => {
      const model = load(name);
      const scores = bnGamma(model);
      model.dispose();
      return { scores, estimator: 'bn_gamma in memory' };
    },
    saveSnapshot: async (s) => {
      snapshots.push({ progress: JSON.stringify(s.progress), model: s.model.toSafeTensors(), buffers: encodeBuffers(s.buffers) });
    },
    emit: (e) => events.push(e),
    isCancelled: () => opts.stopAfterSnapshots !== undefined && snapshots.length >= opts.stopAfterSnapshots,
  };
  return { ports, checkpoints, snapshots, events, load };
}

let reference: ReturnType<typeof memoryPorts>;

test('an imported model trains and is pruned by the generic policy; its checkpoints carry the graph', async () => {
  reference = memoryPorts({});
  const summary = await runPruneTrain(cfg, reference.ports);
  const started = reference.events.find((e) => e.kind === 'started');
  assert.equal(started?.kind === 'started' && started.arch, GRAPH_ARCH);
  const round = reference.events.find((e) => e.kind === 'round');
  assert.ok(round?.kind === 'round');
  // The same step by each policy on the checkpoint the round scored: the run's channels are the generic one's.
  const trained = reference.load('round1-trained');
  const scores = bnGamma(trained);
  const opts = { ratio: cfg.pruneRatio, pCumulative: 50, originalWidths: originalWidths(imported) };
  const generic = pruneStep(trained, scores, { ...opts, policy: 'generic' });
  const paper = pruneStep(trained, scores, { ...opts, policy: 'paper' });
  const kept = (r: typeof generic) => r.plan.kept.map((k) => k.length);
  assert.notDeepEqual(kept(generic), kept(paper), 'the two policies differ here, so the check below tells them apart');
  assert.deepEqual(round.channels, kept(generic));
  for (const m of [trained, generic.model, paper.model]) m.dispose();
  assert.ok(summary.parametersAfter < summary.parametersBefore);
  assert.equal(summary.parametersBefore, countParameters(imported));
  const final = parseSafeTensors(reference.checkpoints.get('final')!, 'final');
  assert.equal(final.metadata.arch, GRAPH_ARCH);
  assert.ok(final.metadata.graph, 'the final checkpoint carries its (pruned) graph');
});

test('an imported model stopped after its first snapshot resumes to the same final weights', async () => {
  const first = memoryPorts({ stopAfterSnapshots: 1 });
  await assert.rejects(runPruneTrain(cfg, first.ports), RunCancelled);
  const s = first.snapshots[0];
  const second = memoryPorts({
    resume: { progress: JSON.parse(s.progress) as RunSnapshot['progress'], model: Model.fromSafeTensors(s.model, {}, 'snapshot'), buffers: decodeBuffers(s.buffers) },
  });
  const summary = await runPruneTrain(cfg, second.ports);
  assert.deepEqual(second.checkpoints.get('final'), reference.checkpoints.get('final'), 'final weights bit-identical');
  assert.equal(summary.parametersBefore, countParameters(imported), 'the unpruned size comes from the imported network, not the pruned snapshot');
});

test('a graph run needs its imported network, with the run’s class count', () => {
  assert.throws(() => runNetwork(cfg), (e: Error) => e instanceof RunConfigError && /no imported model/.test(e.message));
  assert.throws(() => runNetwork({ ...cfg, numClasses: 7 }, imported), /num_classes: is 7 but the imported model predicts 10 classes/);
  assert.equal(runNetwork({ arch: 'vgg13', numClasses: 10 }).arch, 'vgg13');
  assert.throws(() => resolveRunConfig({ arch: '', dataset: 'x', numClasses: 10 }), /arch: unknown architecture ""; .*run an imported model/);
});
