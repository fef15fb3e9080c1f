// The run's stored documents: written as JSON and read back equal (NaN included), checked field by
// field with errors that name the field, the shape written before the version tag still read, and
// a document from a newer flowprune refused with what to do.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { RunEventBody, RunSummaryData } from './events.js';
import { resolveRunConfig } from './run-config.js';
import { eventDocument, EVENT_KINDS, nextEpochOf, readEvent, readResume, readSpec, readSummary, resumeDocument, RUN_DOCUMENT_VERSION, RunDocumentError, specDocument, summaryDocument, type ResumePoint } from './run-document.js';

const cfg = resolveRunConfig({
  arch: 'vgg13',
  numClasses: 10,
  dataset: 'cifar10',
  seed: 7,
  measure: 'mag_based',
  pruneRatio: 0.5,
  nRounds: 2,
  schedule: [{ lr: 0.05, epochs: 3 }],
  batchSize: 16,
  analysis: { everyBatches: 2, samples: 20 },
});

/** A JSON round trip, as every store does. */
const stored = (doc: object): unknown => JSON.parse(JSON.stringify(doc));

const latency = [{ engine: 'onnxruntime', batchSize: 1, p50Ms: 1.5, p95Ms: 2, imagesPerSecond: 600, runs: 10 }];
const summary: RunSummaryData = {
  backend: 'wasm',
  parametersBefore: 1000,
  parametersAfter: 400,
  flopsBefore: 9000,
  flopsAfter: 3000,
  accuracyBeforePruning: NaN, // base training has none: JSON stores null
  accuracyAfterPruning: 0.41,
  accuracyAfterFinetune: 0.5,
  bestTestAccuracy: 0.52,
  compressionRatio: 2.5,
  channelsBefore: [64, 64],
  channelsAfter: [30, 34],
  stageSeconds: { train: 3.5, estimate: 0.25 },
  wallSeconds: 4,
  finalCheckpoint: 'best',
  latency: { before: latency, after: latency },
};

const resume: ResumePoint = {
  slot: 'b',
  progress: {
    nextEpoch: 3,
    pCumulative: 75,
    bestAccuracy: -1,
    bestCheckpoint: '',
    accuracyBeforePruning: 0.3,
    accuracyAfterPruning: NaN,
    latencyBefore: latency,
    stageSeconds: { train: 1 },
    elapsedSeconds: 12.5,
  },
};

const events: RunEventBody[] = [
  { kind: 'started', arch: 'vgg13', backend: 'wasm', totalEpochs: 5, trainBatches: 4, parameters: 1000, flops: 9000 },
  { kind: 'progress', phase: 'warmup', epoch: 0, batch: 1, batches: 4, loss: 2.3 },
  { kind: 'epoch', phase: 'pruning_and_training', epoch: 1, lr: 0.1, trainLoss: 2.1, trainAccuracy: 0.2, testLoss: 2.2, testAccuracy: 0.19, seconds: 1.5 },
  { kind: 'round', round: 1, prunedFraction: 0.25, channels: [48, 48], accuracyBeforeFinetune: 0.15, parameters: 700, flops: 6000, measure: 'mag_based', estimator: 'x@y' },
  { kind: 'stage', stage: 'train', seconds: 1, detail: 'warmup epoch 0' },
  { kind: 'analysis', analysis: { type: 'prune' } as unknown as Extract<RunEventBody, { kind: 'analysis' }>['analysis'] },
  { kind: 'finished', summary },
  { kind: 'failed', message: 'cancelled' },
];

test('spec: the resolved config with its version tag, read back equal', () => {
  const doc = stored(specDocument(cfg)) as Record<string, unknown>;
  assert.equal(doc.documentVersion, RUN_DOCUMENT_VERSION);
  assert.deepEqual(readSpec(doc), cfg);
});

test('spec: the untagged shape written before the version (version 0) reads the same', () => {
  // Exactly what 1ca44d1's runRecordInput stored (JSON of the resolved RunConfig, no tag).
  const old = stored(cfg) as Record<string, unknown>;
  assert.equal(old.documentVersion, undefined);
  assert.deepEqual(readSpec(old), cfg);
});

test('spec: a newer version is refused, saying to upgrade', () => {
  assert.throws(
    () => readSpec({ ...specDocument(cfg), documentVersion: RUN_DOCUMENT_VERSION + 1 }),
    (e: unknown) => e instanceof RunDocumentError && e.field === 'spec.documentVersion' && /upgrade flowprune/.test(e.message),
  );
});

test('spec: a stored value the resolver rejects names its field', () => {
  assert.throws(() => readSpec({ ...specDocument(cfg), momentum: 1.5 }), (e: unknown) => e instanceof RunDocumentError && e.field === 'spec.momentum');
  assert.throws(() => readSpec([]), (e: unknown) => e instanceof RunDocumentError && e.field === 'spec');
});

test('summary: read back equal, NaN included (stored as null)', () => {
  const doc = stored(summaryDocument(summary)) as Record<string, unknown>;
  assert.equal(doc.accuracyBeforePruning, null);
  assert.deepEqual(readSummary(doc), summary);
  const { latency: _none, ...withoutLatency } = summary;
  assert.deepEqual(readSummary(stored(summaryDocument(withoutLatency))), withoutLatency, 'latency stays absent');
});

test('summary: a missing or mistyped field is named', () => {
  const doc = stored(summaryDocument(summary)) as Record<string, unknown>;
  assert.throws(() => readSummary({ ...doc, flopsAfter: undefined }), /summary\.flopsAfter: must be a number/);
  assert.throws(() => readSummary({ ...doc, channelsAfter: [1, 'x'] }), /summary\.channelsAfter\[1\]: must be a number/);
  assert.throws(() => readSummary({ ...doc, latency: { before: [{}], after: [] } }), /summary\.latency\.before\[0\]\.engine: must be a string/);
});

test('resume: slot and progress read back equal (latencyBefore kept)', () => {
  assert.deepEqual(readResume(stored(resumeDocument(resume))), resume);
  assert.equal(nextEpochOf(stored(resumeDocument(resume))), 3);
  assert.equal(nextEpochOf(undefined), 0, 'no snapshot yet: epoch 0');
});

test('resume: a bad slot or epoch is named', () => {
  const doc = stored(resumeDocument(resume)) as Record<string, unknown>;
  assert.throws(() => readResume({ ...doc, slot: 'c' }), /resume\.slot: must be one of a, b/);
  assert.throws(() => readResume({ ...doc, progress: { ...resume.progress, nextEpoch: 1.5 } }), /resume\.progress\.nextEpoch/);
});

test('events: every kind is written with type = kind and read back equal', () => {
  assert.deepEqual(new Set(events.map((e) => e.kind)), new Set(EVENT_KINDS), 'the sample covers every kind');
  for (const e of events) {
    const doc = eventDocument(e);
    assert.equal(doc.type, e.kind);
    assert.deepEqual(readEvent(doc.type, stored(doc.data)), e, e.kind);
  }
});

test('events: other types are skipped, a malformed run event is named', () => {
  assert.equal(readEvent('claimed', { worker: 1 }), undefined);
  assert.throws(() => readEvent('epoch', { phase: 'cooldown' }, 'event 4'), /event 4\.data\.phase: must be one of warmup, pruning_and_training, final_training/);
});
