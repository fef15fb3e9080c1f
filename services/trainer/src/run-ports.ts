// The run loop's ports, wired to the data-loader, the estimators, the evaluator and the store.
import { idempotentCall, rpcDefaults, streamImageBatches, testSplitRequest } from '@flowprune/grpc';
import { measureToEstimate, RUN_SETTING_OF_PARAMETER, scoresInManifestOrder } from '@flowprune/importance';
import { networkOf, prunableLayers, type Model, type Network } from '@flowprune/models';
import { Split, type DataLoaderServiceClient, type EvaluatorServiceClient, type LatencyRequest } from '@flowprune/proto';
import type { RunStore } from '@flowprune/store';
import type { RunConfig, RunEventBody, RunPorts, RunSnapshot } from '@flowprune/training';
import type { EstimatorRegistry } from './estimator-registry.js';
import { saveSnapshot } from './run-snapshots.js';

/** The latency a run measures before and after pruning: batch 1 (the latency that serving sees), 10 timed runs. */
const RUN_LATENCY: LatencyRequest = { batchSizes: [1], runs: 10 };

export interface PortDeps {
  store: RunStore;
  dataLoader: DataLoaderServiceClient;
  evaluator: EvaluatorServiceClient;
  estimators: EstimatorRegistry;
  backend: string;
}

/** The run's settings a measure takes (by the names ListMeasures gives), plus explicit measure_params. */
function estimateParams(cfg: RunConfig, accepted: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of accepted) {
    const setting = RUN_SETTING_OF_PARAMETER.get(name);
    if (setting) out[name] = cfg[setting];
  }
  return { ...out, ...cfg.measureParams };
}

export function makeRunPorts(
  deps: PortDeps,
  runId: string,
  cfg: RunConfig,
  trainBatchCount: number,
  hooks: {
    emit: (e: RunEventBody) => void;
    isCancelled: () => boolean;
    /** Runs after a snapshot's files are stored, before the run document names it. */
    beforeCommit?: () => Promise<void>;
    initialModel?: Model;
    importedNetwork?: Network;
    resume?: RunSnapshot;
  },
): RunPorts {
  const { store, dataLoader, evaluator } = deps;
  // A stopping run (CancelRun, shutdown) does not wait for a dependency that is down.
  const shouldStop = hooks.isCancelled;
  return {
    backend: deps.backend,
    initialModel: hooks.initialModel,
    importedNetwork: hooks.importedNetwork,
    resume: hooks.resume,
    trainBatchCount,
    emit: hooks.emit,
    isCancelled: hooks.isCancelled,
    trainBatches: (epoch) =>
      streamImageBatches(dataLoader, {
        dataset: { name: cfg.dataset },
        split: Split.SPLIT_TRAIN,
        batchSize: cfg.batchSize,
        seed: cfg.seed,
        epoch,
        shuffle: true,
        augment: cfg.augment,
        shardIndex: 0,
        shardCount: 1,
        maxSamples: cfg.trainSamples,
      }, { shouldStop }),
    testBatches: () => streamImageBatches(dataLoader, testSplitRequest(cfg.dataset, cfg.evalBatchSize, cfg.testSamples), { shouldStop }),
    saveCheckpoint: async (model, name) => {
      await store.putCheckpoint(runId, name, model.toSafeTensors(), { arch: model.net.arch, config: model.net.config as unknown as Record<string, unknown> });
      return name;
    },
    saveSnapshot: (snap) => saveSnapshot(store, runId, snap, hooks.beforeCommit),
    evaluateCheckpoint: async (name, opts) => {
      // Evaluate and Estimate read stored checkpoints and change nothing: safe to repeat.
      const r = await idempotentCall(
        evaluator,
        evaluator.evaluate,
        {
          model: { checkpoint: { runId, name } },
          dataset: { name: cfg.dataset },
          split: Split.SPLIT_TEST,
          batchSize: cfg.evalBatchSize,
          temperature: cfg.temperature,
          maxSamples: cfg.testSamples,
          ...(opts?.latency ? { latency: RUN_LATENCY } : {}),
        },
        { name: 'evaluator', timeoutMs: rpcDefaults().computeDeadlineMs, shouldStop },
      );
      return { accuracy: r.accuracy, flops: r.flops, parameters: r.parameters, compressionRatio: r.compressionRatio, ...(opts?.latency ? { latency: r.latency } : {}) };
    },
    estimate: async (name, _round, epoch, initName) => {
      // e.g. biased_loss with θ₀ is the estimator's biased_loss_init (docs/pruning-semantics.md §8).
      const measure = measureToEstimate(cfg.measure, initName !== undefined);
      const est = await deps.estimators.resolve(measure);
      // The model travels with the request (an estimator needs no store), with its layer manifest.
      const model = await checkpointBytes(store, runId, name);
      const manifest = prunableLayers(networkOf(model, `checkpoint ${name}`).filterLayers);
      const r = await idempotentCall(
        est.client,
        est.client.estimate,
        {
          model: { safetensors: Buffer.from(model) },
          initModel: initName ? { safetensors: Buffer.from(await checkpointBytes(store, runId, initName)) } : undefined,
          layers: manifest,
          measure,
          params: estimateParams(cfg, est.info.parameters.map((p) => p.name)),
          dataset: { name: cfg.dataset },
          batches: [],
          seed: cfg.seed,
          epoch,
        },
        { name: 'importance-estimator', timeoutMs: rpcDefaults().computeDeadlineMs, shouldStop },
      );
      const estimator = `${est.estimator}@${est.address}`;
      // Read by conv name and checked: a bad answer fails the round before anything is pruned.
      return { scores: scoresInManifestOrder(manifest, r.layers, estimator), estimator };
    },
  };
}

async function checkpointBytes(store: RunStore, runId: string, name: string): Promise<Uint8Array> {
  const cp = await store.getCheckpoint(runId, name);
  if (!cp) throw new Error(`checkpoint ${name} of run ${runId} is missing from the run store`);
  return cp.bytes;
}
