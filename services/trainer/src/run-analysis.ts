// The run's gradient-flow analysis (libs/training flow-analysis.ts) wired to the data-loader: a
// fixed sample — the training split's first images, unshuffled and unaugmented — fetched once and
// read at every analysis point; its records go out as run events, which the run manager stores.
import { idempotentCall, invalidArgument, streamImageBatches } from '@flowprune/grpc';
import type { ImportanceData, SampleBatch } from '@flowprune/importance';
import { Split, type DataLoaderServiceClient } from '@flowprune/proto';
import { makeFlowAnalysis, type RunAnalysis, type RunConfig, type RunEventBody } from '@flowprune/training';

function analysisSample(client: DataLoaderServiceClient, cfg: RunConfig, shouldStop: () => boolean): ImportanceData {
  const common = { dataset: { name: cfg.dataset }, split: Split.SPLIT_TRAIN, seed: cfg.seed, epoch: 0, shuffle: false, augment: false };
  let batches: Promise<SampleBatch[]> | undefined;
  const groups = new Map<number, Promise<SampleBatch[]>>();
  const collect = async () => {
    const out: SampleBatch[] = [];
    const req = { ...common, batchSize: cfg.batchSize, shardIndex: 0, shardCount: 1, maxSamples: cfg.analysis!.samples };
    for await (const b of streamImageBatches(client, req, { shouldStop })) out.push(b);
    return out;
  };
  return {
    async *batches() {
      batches ??= collect();
      yield* await batches;
    },
    classGroups(perClass, numClasses) {
      let g = groups.get(perClass);
      if (!g) {
        g = idempotentCall(client, client.sampleBalanced, { ...common, perClass }, { name: 'data-loader', shouldStop }).then((res) => {
          if (res.groups.length !== numClasses) throw invalidArgument('spec.dataset', `${cfg.dataset} has ${res.groups.length} classes but the model has ${numClasses}`);
          return res.groups;
        });
        groups.set(perClass, g);
      }
      return g;
    },
  };
}

/** The analysis port of a run with `analysis` set; undefined otherwise. */
export function makeRunAnalysis(client: DataLoaderServiceClient, cfg: RunConfig, emit: (e: RunEventBody) => void, shouldStop: () => boolean): RunAnalysis | undefined {
  if (!cfg.analysis) return undefined;
  return makeFlowAnalysis({ cfg, data: analysisSample(client, cfg, shouldStop), emit: (analysis) => emit({ kind: 'analysis', analysis }),
    onError: (message) => emit({ kind: 'stage', stage: 'analysis', seconds: 0, detail: message }),
  });
}
