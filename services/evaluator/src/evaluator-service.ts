// EvaluatorService: validation → model rebuilt from its checkpoint → libs/training evaluation.
import { invalidArgument, modelRefBytes, streamImageBatches, testSplitRequest, unary, type CheckpointReader } from '@flowprune/grpc';
import { buildNetwork, countFlops, countMacs, countParameters, Model, stateBytes } from '@flowprune/models';
import {
  Split,
  type DataLoaderServiceClient,
  type EvaluateRequest,
  type EvaluateResponse,
  type EvaluatorServiceServer,
} from '@flowprune/proto';
import { effectiveChannels, evaluateModel } from '@flowprune/training';

export interface EvaluatorDeps {
  store: CheckpointReader;
  dataLoader: DataLoaderServiceClient;
  backend: string;
}

export function makeEvaluatorService(deps: EvaluatorDeps): EvaluatorServiceServer {
  return {
    evaluate: unary<EvaluateRequest, EvaluateResponse>(async (req) => {
      const start = performance.now();
      if (!req.dataset?.name) throw invalidArgument('dataset.name', 'is required (a dataset of the data-loader)');
      const batchSize = req.batchSize || 128;
      if (!Number.isInteger(batchSize) || batchSize > 4096) throw invalidArgument('batch_size', `must be in 1..4096, got ${req.batchSize}`);
      const temperature = req.temperature || 5;
      if (!(temperature > 0) || !Number.isFinite(temperature)) throw invalidArgument('temperature', `must be a positive number, got ${req.temperature}`);
      const split = req.split === Split.SPLIT_UNSPECIFIED ? Split.SPLIT_TEST : req.split;
      const model = Model.fromSafeTensors(await modelRefBytes(req.model, deps.store), {}, 'model');
      try {
        const batches = streamImageBatches(deps.dataLoader, { ...testSplitRequest(req.dataset.name, batchSize, req.maxSamples), split });
        const r = await evaluateModel(model, batches, temperature);
        const base = buildNetwork(model.net.arch, model.net.numClasses);
        return {
          arch: model.net.arch,
          accuracy: r.accuracy,
          loss: r.loss,
          samples: r.samples,
          flops: countFlops(model.net),
          macs: countMacs(model.net),
          parameters: countParameters(model.net),
          compressionRatio: stateBytes(base) / stateBytes(model.net),
          layerChannels: effectiveChannels(model),
          seconds: (performance.now() - start) / 1000,
          backend: deps.backend,
        };
      } finally {
        model.dispose();
      }
    }),
  };
}
