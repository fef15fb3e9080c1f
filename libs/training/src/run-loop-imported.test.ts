// The run loop on an imported model (arch "graph"): the network comes from the model, not from an
// architecture name; it is pruned by the generic policy (libs/pruning/src/generic.ts), its
// checkpoints carry the graph, and a run stopped after its first snapshot resumes to the same
// weights. The imported model here is MobileNet-V1's graph as a graph-only network (what an ONNX
// import yields), over in-memory ports as in run-loop.test.ts.
import { strict as assert } from 'node:assert';
import { before, test } from 'node:test';
import { buildNetwork, countParameters, GRAPH_ARCH, graphNetwork, Model, parseSafeTensors } from '@flowprune/models';
import { originalWidths, pruneStep } from '@flowprune/pruning';
import { initBackend } from '@flowprune/tensor';
import { RunCancelled, runPruneTrain } from './prune-train-run.js';
import { resolveRunConfig, runNetwork, RunConfigError } from './run-config.js';
import { makeTracker } from './tracker.js';
import { bnGamma, memoryPorts as memoryPortsOf, restore } from './run-loop.test-util.js';
import type { RunSnapshot } from './snapshot.js';

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

const memoryPorts = (opts: { resume?: RunSnapshot; stopAfterSnapshots?: number }) =>
  memoryPortsOf(cfg, { ...opts, importedNetwork: imported, initialModel: opts.resume ? undefined : Model.init(imported, 5) });

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
  const second = memoryPorts({ resume: restore(first.snapshots[0]) });
  const summary = await runPruneTrain(cfg, second.ports);
  assert.deepEqual(second.checkpoints.get('final'), reference.checkpoints.get('final'), 'final weights bit-identical');
  assert.equal(summary.parametersBefore, countParameters(imported), 'the unpruned size comes from the imported network, not the pruned snapshot');
});

test('importance tracked in the trainer works on an imported model’s filter layers', async () => {
  const tracked = resolveRunConfig({ ...cfg, measure: 'biased_loss_tracked', trackImportance: true });
  const { ports, events } = memoryPortsOf(tracked, { importedNetwork: imported, initialModel: Model.init(imported, 5) });
  ports.tracker = makeTracker(tracked, runNetwork(tracked, imported).filterLayers);
  const summary = await runPruneTrain(tracked, ports);
  const round = events.find((e) => e.kind === 'round');
  assert.equal(round?.kind === 'round' && round.estimator, 'tracked in trainer');
  assert.ok(summary.parametersAfter < summary.parametersBefore);
});

test('a graph run needs its imported network, with the run’s class count', () => {
  assert.throws(() => runNetwork(cfg), (e: Error) => e instanceof RunConfigError && /no imported model/.test(e.message));
  assert.throws(() => runNetwork({ ...cfg, numClasses: 7 }, imported), /num_classes: is 7 but the imported model predicts 10 classes/);
  assert.equal(runNetwork({ arch: 'vgg13', numClasses: 10 }).arch, 'vgg13');
  assert.throws(() => resolveRunConfig({ arch: '', dataset: 'x', numClasses: 10 }), /arch: unknown architecture ""; .*run an imported model/);
});

test('a run’s aggregate, max_ratio and round_to reach the generic policy: its round equals that step, not the defaults’', async () => {
  const tuned = resolveRunConfig({ ...cfg, aggregate: 'max', maxRatio: 0.4, roundTo: 8 });
  const run = memoryPortsOf(tuned, { importedNetwork: imported, initialModel: Model.init(imported, 5) });
  await runPruneTrain(tuned, run.ports);
  const round = run.events.find((e) => e.kind === 'round');
  assert.ok(round?.kind === 'round');
  const trained = run.load('round1-trained');
  const scores = bnGamma(trained);
  const opts = { ratio: tuned.pruneRatio, pCumulative: 50, originalWidths: originalWidths(imported), policy: 'generic' as const };
  const withSettings = pruneStep(trained, scores, { ...opts, generic: { aggregate: 'max', maxRatio: 0.4, roundTo: 8 } });
  const defaults = pruneStep(trained, scores, opts);
  const kept = (r: typeof defaults) => r.plan.kept.map((k) => k.length);
  assert.notDeepEqual(kept(withSettings), kept(defaults), 'the settings change this step, so the check below tells them apart');
  assert.deepEqual(round.channels, kept(withSettings));
  for (const [i, n] of kept(withSettings).entries()) {
    const before = originalWidths(imported)[i]!;
    assert.ok(n >= before - Math.floor(0.4 * before), `layer ${i}: ${n} of ${before} kept, more than max_ratio 0.4 removed`);
    assert.ok(before <= 8 || n % 8 === 0, `layer ${i}: ${n} of ${before} kept, not a multiple of round_to 8`);
  }
  for (const m of [trained, withSettings.model, defaults.model]) m.dispose();
});

test('aggregate, max_ratio and round_to: checked, named, and refused where the paper’s policy prunes', () => {
  const base = { arch: GRAPH_ARCH, dataset: 'x', numClasses: 10 };
  const resolved = resolveRunConfig(base);
  assert.deepEqual([resolved.aggregate, resolved.maxRatio, resolved.roundTo], ['sum', 1, 1], 'the generic policy’s defaults');
  assert.throws(() => resolveRunConfig({ ...base, aggregate: 'median' }), /^.*aggregate: must be one of sum, mean, max, got "median"/);
  assert.throws(() => resolveRunConfig({ ...base, maxRatio: 1.5 }), /max_ratio: must be in \(0, 1\], got 1.5/);
  assert.throws(() => resolveRunConfig({ ...base, roundTo: 2.5 }), /round_to: must be a positive integer, got 2.5/);
  assert.throws(
    () => resolveRunConfig({ ...base, arch: 'resnet56', roundTo: 8 }),
    (e: Error) => e instanceof RunConfigError && e.field === 'round_to' && /generic pruning policy.*resnet56 is pruned by the paper's policy/.test(e.message),
  );
});
