// Fuzz test: random and malformed requests to every TrainerService method of a real trainer (with
// real data-loader, estimator and evaluator). StartRun specs are a short valid spec with two to
// four fields replaced by random values, so the checks deep in the spec are reached; a rejected
// StartRun must record nothing: the store holds exactly one run per OK reply.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { status } from '@grpc/grpc-js';
import { mulberry32 } from '@flowprune/common';
import { generateSyntheticCifar10 } from '@flowprune/data';
import { call, launchService, makeClient, runSpec, type LaunchedService } from '@flowprune/grpc';
import { formatFuzzReport, FuzzValues, fuzzMethod, fuzzSeed, RawClient, runFuzz, tempDir } from '@flowprune/grpc/testing';
import {
  CancelRunRequest,
  CancelRunResponse,
  ResumeRunRequest,
  ResumeRunResponse,
  RunSpec,
  StartRunRequest,
  StartRunResponse,
  TrainerServiceClient,
  TrainerServiceService as Svc,
  WatchRunRequest,
  WatchRunResponse,
} from '@flowprune/proto';
import { FileRunStore } from '@flowprune/store';

const SEED = fuzzSeed(20260105);
const svcDir = (name: string) => join(import.meta.dirname, '../..', name, 'src/main.ts');
const procs: LaunchedService[] = [];
let raw: RawClient;
let client: TrainerServiceClient;
let runsDir: string;

before(async () => {
  const dir = tempDir('trainer-fuzz');
  runsDir = join(dir, 'runs');
  generateSyntheticCifar10({ dir: join(dir, 'syn'), trainPerClass: 2, testPerClass: 1, seed: 9 });
  const loader = await launchService({ name: 'data-loader', entry: svcDir('data-loader'), args: ['--dataset', `syn=${join(dir, 'syn')}`] });
  procs.push(loader);
  const [est, ev] = await Promise.all([
    launchService({ name: 'importance-estimator', entry: svcDir('importance-estimator'), args: ['--store', runsDir, '--data-loader', loader.address] }),
    launchService({ name: 'evaluator', entry: svcDir('evaluator'), args: ['--store', runsDir, '--data-loader', loader.address] }),
  ]);
  procs.push(est, ev);
  procs.push(
    await launchService({ name: 'trainer', entry: svcDir('trainer'), args: ['--store', runsDir, '--data-loader', loader.address, '--evaluator', ev.address, '--estimator', est.address] }),
  );
  raw = new RawClient(procs[3].address);
  client = makeClient(TrainerServiceClient, procs[3].address);
});

after(async () => {
  raw?.close();
  client?.close();
  const codes = await Promise.all(procs.reverse().map((p) => p.stop()));
  assert.deepEqual(codes, [0, 0, 0, 0]);
});

/** A valid spec whose run is short: base training, no epochs, a few samples. */
const BASE: RunSpec = runSpec({ name: 'fuzz', arch: 'resnet56', dataset: { name: 'syn' }, seed: 1, schedule: [{ lr: 0.05, epochs: 0 }], batchSize: 10, evalBatchSize: 10, trainSamples: 10, testSamples: 10 });

/** BASE with two to four fields replaced by random values. */
function mutatedSpec(v: FuzzValues): RunSpec | undefined {
  if (v.bool(0.03)) return undefined;
  const s: RunSpec = { ...BASE, schedule: [...BASE.schedule] };
  const mutations: (() => void)[] = [
    () => (s.name = v.text()),
    () => (s.arch = v.text(['resnet56', 'vgg13', 'alexnet'])),
    () => (s.numClasses = v.uint32()),
    () => (s.dataset = v.maybe(() => ({ name: v.text(['syn']) }))),
    () => (s.seed = v.uint64()),
    () => (s.pretrained = v.pick([undefined, { safetensors: v.bytes(64) }, { checkpoint: { runId: v.text(), name: v.text() } }])),
    () => (s.measure = v.text(['mag_based', 'random', 'grasp', 'biased_loss_tracked'])),
    () => (s.measureParams = v.doubleMap(['T', 'imp_samples', 'seed'])),
    () => (s.prunePercent = v.double()),
    () => (s.nRounds = v.uint32()),
    () => (s.thresholds = v.array(() => v.double(), 3)),
    () => (s.temperature = v.double()),
    () => (s.impSamples = v.uint32()),
    () => (s.warmupEpochs = v.uint32()),
    () => (s.lrPrune = v.double()),
    () => (s.momentum = v.double()),
    () => (s.weightDecay = v.double()),
    () => (s.schedule = v.array(() => ({ lr: v.double(), epochs: v.uint32() }), 3)),
    () => (s.batchSize = v.uint32()),
    () => (s.evalBatchSize = v.uint32()),
    () => (s.trainSamples = v.uint32()),
    () => (s.augment = v.maybe(() => v.bool())),
    () => (s.graspTemperature = v.double()),
    () => (s.trackImportance = v.bool()),
    () => (s.trackBatches = v.uint32()),
    () => (s.alpha = v.double()),
    () => (s.useInit = v.bool()),
  ];
  for (let i = 2 + v.int(3); i > 0; i--) v.pick(mutations)();
  return s;
}

const runId = (v: FuzzValues) => v.text(['20260101-000000-abcdef', 'nope', '../../etc', 'a'.repeat(129)]);

const methods = [
  fuzzMethod<StartRunRequest>({
    path: Svc.startRun.path,
    streaming: false,
    generate: (v) => ({ spec: mutatedSpec(v) }),
    encode: (r) => StartRunRequest.encode(r).finish(),
    valid: { spec: BASE },
    decodeReply: (b) => StartRunResponse.decode(b),
  }),
  fuzzMethod<WatchRunRequest>({
    path: Svc.watchRun.path,
    streaming: true,
    generate: (v) => ({ runId: runId(v) }),
    encode: (r) => WatchRunRequest.encode(r).finish(),
    valid: { runId: '' },
    decodeReply: (b) => WatchRunResponse.decode(b),
  }),
  fuzzMethod<CancelRunRequest>({
    path: Svc.cancelRun.path,
    streaming: false,
    generate: (v) => ({ runId: runId(v) }),
    encode: (r) => CancelRunRequest.encode(r).finish(),
    valid: { runId: '' },
    decodeReply: (b) => CancelRunResponse.decode(b),
  }),
  fuzzMethod<ResumeRunRequest>({
    path: Svc.resumeRun.path,
    streaming: false,
    generate: (v) => ({ runId: runId(v) }),
    encode: (r) => ResumeRunRequest.encode(r).finish(),
    valid: { runId: '' },
    decodeReply: (b) => ResumeRunResponse.decode(b),
  }),
];

test(`every TrainerService method survives random and malformed requests; rejected StartRuns record nothing (seed ${SEED})`, async () => {
  const report = await runFuzz({ client: raw, methods, values: new FuzzValues(mulberry32(SEED)), structured: 150, malformed: 140, concurrency: 4, timeoutMs: 60_000 });
  console.log(formatFuzzReport('trainer', SEED, report));
  assert.deepEqual(report.problems, [], `replay with FLOWPRUNE_FUZZ_SEED=${SEED}`);
  const start = report.byMethod[Svc.startRun.path].codes;
  assert.ok((start['INVALID_ARGUMENT'] ?? 0) > 0, JSON.stringify(start));

  const store = new FileRunStore({ root: runsDir });
  const runs = await store.listRuns();
  assert.equal(runs.length, start['OK'] ?? 0, 'one stored run per accepted StartRun, none for rejected ones');
  // Accepted random specs may train for a while: stop them (every call answers, ended runs refuse).
  const cancels = await Promise.allSettled(runs.map((r) => call(client, client.cancelRun, { runId: r.id })));
  for (const c of cancels) if (c.status === 'rejected') assert.equal((c.reason as { code: number }).code, status.FAILED_PRECONDITION);

  assert.equal(procs[3].child.exitCode, null, 'the process is alive');
  assert.ok(await raw.serving(), 'health check SERVING');
  // A valid request still works: a run starts, can be watched to its end, and a second one cancelled.
  const { runId: id } = await call(client, client.startRun, { spec: BASE });
  const events: WatchRunResponse[] = [];
  for await (const m of client.watchRun({ runId: id })) events.push(m as WatchRunResponse);
  assert.ok(events.at(-1)?.event?.finished, `run ${id} finished: ${JSON.stringify(events.at(-1)?.event?.failed)}`);
  await assert.rejects(call(client, client.cancelRun, { runId: id }), (e: { code: number }) => e.code === status.FAILED_PRECONDITION);
});
