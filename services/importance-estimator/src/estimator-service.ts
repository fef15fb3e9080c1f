// ImportanceEstimatorService: validation → libs/importance → one vector per filter layer.
import { AdmissionQueue, failedPrecondition, invalidArgument, modelRefBytes, unary, type AdmissionLimits, type CheckpointReader } from '@flowprune/grpc';
import {
  batchListData,
  BUILTIN_MEASURES,
  checkBatches,
  getMeasure,
  initWeightsFromSafeTensors,
  MeasureError,
  resolveParams,
  StatisticsCache,
  type ImportanceData,
  type ImportanceMeasure,
} from '@flowprune/importance';
import { manifestPositions, Model } from '@flowprune/models';
import type {
  DataLoaderServiceClient,
  EstimateRequest,
  EstimateResponse,
  ImportanceEstimatorServiceServer,
  ListMeasuresRequest,
  ListMeasuresResponse,
  MeasureInfo,
} from '@flowprune/proto';
import { EstimateCache } from './estimate-cache.js';
import { validateEstimateRequest } from './estimate-validation.js';
import { loaderData } from './loader-data.js';

const ESTIMATOR_NAME = 'flowprune-builtin';

export interface EstimatorDeps {
  store: CheckpointReader;
  backend: string;
  /** Where dataset-mode requests read samples; absent: only inline batches. */
  dataLoader?: DataLoaderServiceClient;
  /** Estimates computing at once and waiting (default DEFAULT_ESTIMATE_LIMITS); more are refused. */
  admission?: AdmissionLimits;
}

/** Each Estimate holds a model and its data: a few at a time keep memory bounded (one JS thread computes anyway). */
export const DEFAULT_ESTIMATE_LIMITS: AdmissionLimits = { concurrency: 2, queueLength: 16 };

function measureInfo({ info }: ImportanceMeasure): MeasureInfo {
  return {
    name: info.name,
    description: info.description,
    needsData: info.needsData,
    needsInitWeights: info.needsInitWeights,
    parameters: info.parameters.map((p) => ({ name: p.name, description: p.description, defaultValue: p.defaultValue, minValue: p.min, maxValue: p.max })),
  };
}

/** Lib errors that carry a field become INVALID_ARGUMENT statuses naming it. */
export function asRequestError(e: unknown, fallbackField: string): unknown {
  if (e instanceof MeasureError) return invalidArgument(e.field ?? fallbackField, e.message);
  const k = e as { kind?: string; message?: string };
  if (k?.kind === 'invalid-argument') return invalidArgument(fallbackField, k.message ?? String(e));
  return e;
}

export function dataFor(
  req: Pick<EstimateRequest, 'batches' | 'dataset' | 'seed' | 'epoch'>, model: Model, params: Record<string, number>, deps: EstimatorDeps, measure: string): ImportanceData {
  if (req.batches.length > 0) {
    checkBatches(req.batches, model.net.numClasses, 'batches');
    return batchListData(req.batches);
  }
  if (req.dataset?.name) {
    if (!deps.dataLoader) throw failedPrecondition('dataset: this estimator was started without --data-loader; send inline batches');
    return loaderData(deps.dataLoader, {
      dataset: req.dataset.name,
      seed: req.seed,
      epoch: req.epoch,
      batchSize: params['batch_size'] ?? 128,
      maxSamples: params['imp_samples'] ?? 0,
    });
  }
  throw invalidArgument('dataset', `measure ${measure} reads data: give a dataset (name) or inline batches`);
}

export function makeEstimatorService(deps: EstimatorDeps): ImportanceEstimatorServiceServer {
  const recent = new EstimateCache();
  const admission = new AdmissionQueue(deps.admission ?? DEFAULT_ESTIMATE_LIMITS, 'Estimate', 'raise --max-concurrent / --max-queued of the importance-estimator');
  return {
    listMeasures: unary<ListMeasuresRequest, ListMeasuresResponse>(async () => ({
      estimator: ESTIMATOR_NAME,
      measures: [...BUILTIN_MEASURES.values()].map(measureInfo),
    })),

    estimate: unary<EstimateRequest, EstimateResponse>(async (req, call) => {
      validateEstimateRequest(req, [...BUILTIN_MEASURES.keys()]);
      return admission.run(() => estimate(req), call);
    }),
  };

  /** One Estimate, once admitted. */
  async function estimate(req: EstimateRequest): Promise<EstimateResponse> {
    const start = performance.now();
    let measure: ImportanceMeasure;
    let params: Record<string, number>;
    try {
      measure = getMeasure(req.measure);
      params = resolveParams(measure.info, req.params);
    } catch (e) {
      throw asRequestError(e, 'measure');
    }
    const modelBytes = await modelRefBytes(req.model, deps.store, 'model');
    let model: Model;
    try {
      model = Model.fromSafeTensors(modelBytes, {}, 'model');
    } catch (e) {
      throw asRequestError(e, 'model');
    }
    try {
      let wanted: number[];
      try {
        wanted = manifestPositions(model.net, req.layers);
      } catch (e) {
        throw invalidArgument('layers', (e as Error).message);
      }
      const initBytes = measure.info.needsInitWeights
        ? await modelRefBytes(req.initModel, deps.store, 'init_model').catch((e: unknown) => {
            throw req.initModel ? e : invalidArgument('init_model', `is required by ${measure.info.name} (the conv weights at initialisation, θ₀)`);
          })
        : undefined;
      const { scores, samplesUsed } = await (async () => {
        try {
          const initWeights = initBytes ? initWeightsFromSafeTensors(initBytes, model, 'init_model') : undefined;
          const data = measure.info.needsData ? dataFor(req, model, params, deps, measure.info.name) : undefined;
          // Inline batches are often reused by the next request (one measure per call); a dataset read is not.
          const cache = measure.info.needsData && req.batches.length > 0 ? recent.for(req, modelBytes) : new StatisticsCache();
          return await measure.compute({ model, params, data, initWeights, cache });
        } catch (e) {
          throw asRequestError(e, 'request');
        }
      })();
      return {
        measure: measure.info.name,
        // One per manifest entry, keyed by conv (every filter layer for callers without a manifest).
        layers: wanted.map((layer) => ({ layer, conv: model.net.filterLayers[layer].conv, values: scores[layer] })),
        samplesUsed,
        seconds: (performance.now() - start) / 1000,
        backend: deps.backend,
      };
    } finally {
      model.dispose();
    }
  }
}
