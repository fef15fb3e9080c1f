// A second, independent ImportanceEstimatorService: it offers the measure `random`, so a trainer
// configured with several estimators resolves that name here (ListMeasures) and prunes by it.
import { checkFiniteMap, checkText, failedPrecondition, invalidArgument, modelRefBytes, unary, type CheckpointReader } from '@flowprune/grpc';
import { MeasureError, resolveParams, type MeasureInfo } from '@flowprune/importance';
import { CheckpointError, manifestPositions, networkOf, type Network } from '@flowprune/models';
import type { EstimateRequest, EstimateResponse, ImportanceEstimatorServiceServer, ListMeasuresRequest, ListMeasuresResponse } from '@flowprune/proto';

import { randomScores } from './random-scores.js';

const RANDOM_ESTIMATOR_NAME = 'flowprune-random';

const RANDOM_MEASURE: MeasureInfo = {
  name: 'random',
  description: 'random ranking: i.i.d. U(0, 1) scores per channel from (seed, layer); the baseline every measure must beat',
  needsData: false,
  needsInitWeights: false,
  parameters: [{ name: 'seed', description: 'seed of the scores', defaultValue: 0, min: 0, max: 4294967295, integer: true }],
};

/** Without a run store, a CheckpointRef cannot be read: the caller must send the bytes. */
const NO_STORE: CheckpointReader = {
  getCheckpoint: () => Promise.reject(failedPrecondition('model.checkpoint: this estimator was started without --store; send the model as safetensors bytes')),
};

/** `store` only serves CheckpointRefs; models sent as bytes (what trainers do) need none. */
export function makeRandomEstimatorService(deps: { store?: CheckpointReader }): ImportanceEstimatorServiceServer {
  const store = deps.store ?? NO_STORE;
  return {
    listMeasures: unary<ListMeasuresRequest, ListMeasuresResponse>(async () => ({
      estimator: RANDOM_ESTIMATOR_NAME,
      measures: [
        {
          name: RANDOM_MEASURE.name,
          description: RANDOM_MEASURE.description,
          needsData: false,
          needsInitWeights: false,
          parameters: RANDOM_MEASURE.parameters.map((p) => ({ name: p.name, description: p.description, defaultValue: p.defaultValue, minValue: p.min, maxValue: p.max })),
        },
      ],
    })),
    estimate: unary<EstimateRequest, EstimateResponse>(async (req) => {
      const start = performance.now();
      checkText('measure', req.measure);
      checkFiniteMap('params', req.params);
      if (req.measure !== RANDOM_MEASURE.name) throw invalidArgument('measure', `unknown measure "${req.measure}"; this estimator offers ${RANDOM_MEASURE.name}`);
      let seed: number;
      try {
        seed = resolveParams(RANDOM_MEASURE, req.params)['seed'];
      } catch (e) {
        throw invalidArgument('params', (e as MeasureError).message);
      }
      const net = networkOf(await modelRefBytes(req.model, store, 'model'));
      const wanted = layersOfManifest(net, req);
      const scores = randomScores(
        net.filterLayers.map((l) => l.outChannels),
        seed,
      );
      return {
        measure: RANDOM_MEASURE.name,
        layers: wanted.map((layer) => ({ layer, conv: net.filterLayers[layer].conv, values: scores[layer] })),
        samplesUsed: 0,
        seconds: (performance.now() - start) / 1000,
        backend: 'host',
      };
    }),
  };
}

/** The manifest's layers (one answer each, keyed by conv); a manifest that does not fit the model is the caller's error. */
function layersOfManifest(net: Network, req: EstimateRequest): number[] {
  try {
    return manifestPositions(net, req.layers);
  } catch (e) {
    throw e instanceof CheckpointError ? invalidArgument('layers', e.message) : e;
  }
}
