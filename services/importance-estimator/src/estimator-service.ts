// ImportanceEstimatorService: validation → libs/importance → one vector per filter layer.
import { invalidArgument, modelRefBytes, unary, type CheckpointReader } from '@flowprune/grpc';
import { BUILTIN_MEASURES, getMeasure, resolveParams } from '@flowprune/importance';
import { Model } from '@flowprune/models';
import type {
  EstimateRequest,
  EstimateResponse,
  ImportanceEstimatorServiceServer,
  ListMeasuresRequest,
  ListMeasuresResponse,
} from '@flowprune/proto';

export const ESTIMATOR_NAME = 'flowprune-builtin';

export interface EstimatorDeps {
  store: CheckpointReader;
  backend: string;
}

export function makeEstimatorService(deps: EstimatorDeps): ImportanceEstimatorServiceServer {
  return {
    listMeasures: unary<ListMeasuresRequest, ListMeasuresResponse>(async () => ({
      estimator: ESTIMATOR_NAME,
      measures: [...BUILTIN_MEASURES.values()].map(({ info }) => ({
        name: info.name,
        description: info.description,
        needsData: info.needsData,
        needsInitWeights: info.needsInitWeights,
        parameters: info.parameters.map((p) => ({
          name: p.name,
          description: p.description,
          defaultValue: p.defaultValue,
          minValue: p.min,
          maxValue: p.max,
        })),
      })),
    })),

    estimate: unary<EstimateRequest, EstimateResponse>(async (req) => {
      const start = performance.now();
      if (!req.measure) throw invalidArgument('measure', `is required; this estimator offers ${[...BUILTIN_MEASURES.keys()].join(', ')}`);
      const measure = getMeasure(req.measure);
      const params = resolveParams(measure.info, req.params);
      const model = Model.fromSafeTensors(await modelRefBytes(req.model, deps.store), {}, 'model');
      try {
        const scores = await measure.compute({ model, params });
        return {
          measure: measure.info.name,
          layers: scores.map((values, layer) => ({ layer, conv: model.net.filterLayers[layer].conv, values })),
          samplesUsed: 0,
          seconds: (performance.now() - start) / 1000,
          backend: deps.backend,
        };
      } finally {
        model.dispose();
      }
    }),
  };
}
