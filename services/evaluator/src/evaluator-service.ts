// EvaluatorService: validation → model rebuilt from its checkpoint → libs/training evaluation.
import { modelRefBytes, streamImageBatches, testSplitRequest, unary, type CheckpointReader } from '@flowprune/grpc';
import { compressionRatio, countFlops, countMacs, countParameters, Model, unprunedNetwork } from '@flowprune/models';
import {
  type DataLoaderServiceClient,
  type EvaluateRequest,
  type EvaluateResponse,
  type EvaluatorServiceServer,
} from '@flowprune/proto';
import { encodeOnnx, ENGINES, modelLatency, modelToOnnx } from '@flowprune/onnx';
import { effectiveChannels, evaluateModel } from '@flowprune/training';
import { validateEvaluateRequest } from './evaluate-validation.js';

export interface EvaluatorDeps {
  store: CheckpointReader;
  dataLoader: DataLoaderServiceClient;
  backend: string;
}

export function makeEvaluatorService(deps: EvaluatorDeps): EvaluatorServiceServer {
  return {
    evaluate: unary<EvaluateRequest, EvaluateResponse>(async (req) => {
      const start = performance.now();
      const plan = validateEvaluateRequest(req);
      const model = Model.fromSafeTensors(await modelRefBytes(req.model, deps.store), {}, 'model');
      try {
        const batches = streamImageBatches(deps.dataLoader, { ...testSplitRequest(plan.dataset, plan.batchSize, plan.maxSamples), split: plan.split });
        const r = await evaluateModel(model, batches, plan.temperature);
        const base = unprunedNetwork(model.net);
        // After the accuracy pass: the model's weights are warm either way, and timing comes last.
        const latency = plan.latency
          ? await modelLatency(encodeOnnx(modelToOnnx(model)), model, { ...plan.latency, warmup: 2, engines: ENGINES }, 'model')
          : [];
        return {
          arch: model.net.arch,
          accuracy: r.accuracy,
          loss: r.loss,
          samples: r.samples,
          flops: countFlops(model.net),
          macs: countMacs(model.net),
          parameters: countParameters(model.net),
          compressionRatio: compressionRatio(base, model.net),
          layerChannels: effectiveChannels(model),
          seconds: (performance.now() - start) / 1000,
          backend: deps.backend,
          latency: latency.map((l) => ({ engine: l.engine, batchSize: l.batch, p50Ms: l.p50Ms, p95Ms: l.p95Ms, imagesPerSecond: l.imagesPerSecond, runs: l.runs })),
        };
      } finally {
        model.dispose();
      }
    }),
  };
}
