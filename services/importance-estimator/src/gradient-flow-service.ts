// GradientFlowService: the paper's gradient-flow quantities of one model (libs/importance
// gradientFlow), hosted by the importance-estimator beside Estimate and read from the same data.
import { AdmissionQueue, modelRefBytes, unary } from '@flowprune/grpc';
import { GRADIENT_FLOW_INFO, gradientFlow, initWeightsFromSafeTensors, resolveParams, StatisticsCache, type FlowValues as LibFlowValues } from '@flowprune/importance';
import { Model } from '@flowprune/models';
import type { ComputeFlowRequest, ComputeFlowResponse, FlowValues, GradientFlowServiceServer } from '@flowprune/proto';
import { asRequestError, dataFor, DEFAULT_ESTIMATE_LIMITS, type EstimatorDeps } from './estimator-service.js';
import { checkSamplesAndModels } from './estimate-validation.js';


const wireValues = (v: LibFlowValues): FlowValues => ({
  thetaSq: v.theta_sq,
  gradSq: v.grad_sq,
  thetaDotGrad: v.theta_dot_grad,
  thetaDotHg: v.theta_dot_hg,
  distInitSq: v.dist_init_sq,
});


export function makeGradientFlowService(deps: EstimatorDeps): GradientFlowServiceServer {
  const admission = new AdmissionQueue(deps.admission ?? DEFAULT_ESTIMATE_LIMITS, 'ComputeFlow', 'raise --max-concurrent / --max-queued of the importance-estimator');
  return {
    computeFlow: unary<ComputeFlowRequest, ComputeFlowResponse>(async (req, call) => {
      checkSamplesAndModels(req);
      return admission.run(() => compute(req), call);
    }),
  };

  async function compute(req: ComputeFlowRequest): Promise<ComputeFlowResponse> {
    const start = performance.now();
    let params: Record<string, number>;
    try {
      params = resolveParams(GRADIENT_FLOW_INFO, req.params);
    } catch (e) {
      throw asRequestError(e, 'params');
    }
    const modelBytes = await modelRefBytes(req.model, deps.store, 'model');
    let model: Model;
    try {
      model = Model.fromSafeTensors(modelBytes, {}, 'model');
    } catch (e) {
      throw asRequestError(e, 'model');
    }
    try {
      const initBytes = req.initModel ? await modelRefBytes(req.initModel, deps.store, 'init_model') : undefined;
      const flow = await (async () => {
        try {
          const initWeights = initBytes ? initWeightsFromSafeTensors(initBytes, model, 'init_model') : undefined;
          const data = dataFor(req, model, params, deps, GRADIENT_FLOW_INFO.name);
          return await gradientFlow({ model, params, data, initWeights, cache: new StatisticsCache() }, { perFilter: req.perFilter });
        } catch (e) {
          throw asRequestError(e, 'request');
        }
      })();
      return {
        layers: flow.layers.map((l, layer) => ({
          layer,
          conv: l.conv,
          values: wireValues(l),
          filters: l.filters
            ? {
                thetaSq: l.filters.theta_sq,
                gradSq: l.filters.grad_sq,
                thetaDotGrad: l.filters.theta_dot_grad,
                thetaDotHg: l.filters.theta_dot_hg,
                distInitSq: l.filters.dist_init_sq ?? [],
              }
            : undefined,
        })),
        total: wireValues(flow.total),
        imagesUsed: flow.imagesUsed,
        hessianImages: flow.hessianImages,
        seconds: (performance.now() - start) / 1000,
        backend: deps.backend,
      };
    } finally {
      model.dispose();
    }
  }
}
