// `flowprune flow`: the paper's gradient-flow quantities (‖θ‖², ‖ḡ‖², θᵀḡ, θᵀHḡ) of a checkpoint on
// the images of a CIFAR binary file, in file order (the fixtures' rules), through the
// importance-estimator's GradientFlowService (started on demand) or in this process. Both run
// libs/importance gradientFlow on the same batches: ḡ as loss_based reads it, Hḡ as grasp does.
import { readFileSync, writeFileSync } from 'node:fs';
import { idempotentCall, makeClient, rpcDefaults } from '@flowprune/grpc';
import {
  batchListData,
  getMeasure,
  GRADIENT_FLOW_INFO,
  gradientFlow,
  initWeightsFromSafeTensors,
  resolveParams,
  type FlowValues as LibFlowValues,
  type GradientFlow,
  type SampleBatch,
} from '@flowprune/importance';
import { Model, parseArch } from '@flowprune/models';
import { GradientFlowServiceClient, type FlowValues } from '@flowprune/proto';
import { initBackend } from '@flowprune/tensor';
import { fileBatches, ImportanceCliError, launchEstimator, neededBatches, toImageBatch } from './importance.js';

export interface FlowOptions {
  arch: string;
  numClasses: number;
  weights: string;
  initWeights?: string;
  data: string;
  batchSize: number;
  samples: number;
  T: number;
  graspT: number;
  exactDecisions: boolean;
  perFilter: boolean;
  inProcess: boolean;
  out: string;
  verbose: boolean;
}

const libValues = (v: FlowValues | undefined): LibFlowValues => ({
  theta_sq: v?.thetaSq ?? NaN,
  grad_sq: v?.gradSq ?? NaN,
  theta_dot_grad: v?.thetaDotGrad ?? NaN,
  theta_dot_hg: v?.thetaDotHg ?? NaN,
  ...(v?.distInitSq !== undefined ? { dist_init_sq: v.distInitSq } : {}),
});

async function throughService(o: FlowOptions, model: Model, initBytes: Uint8Array | undefined, batches: SampleBatch[], params: Record<string, number>): Promise<GradientFlow> {
  const svc = await launchEstimator('flow', o.verbose);
  const client = makeClient(GradientFlowServiceClient, svc.address);
  try {
    const r = await idempotentCall(
      client,
      client.computeFlow,
      {
        model: { safetensors: Buffer.from(model.toSafeTensors()) },
        params,
        batches: batches.map(toImageBatch),
        initModel: initBytes ? { safetensors: Buffer.from(initBytes) } : undefined,
        seed: 0,
        epoch: 0,
        perFilter: o.perFilter,
      },
      { name: 'importance-estimator', timeoutMs: rpcDefaults().computeDeadlineMs },
    );
    console.error(`gradient flow: ${r.seconds.toFixed(1)} s, ${r.imagesUsed} images for ḡ, ${r.hessianImages} for Hḡ (estimator ${svc.address}, ${r.backend})`);
    return {
      layers: r.layers.map((l) => ({
        conv: l.conv,
        ...libValues(l.values),
        ...(l.filters
          ? {
              filters: {
                theta_sq: l.filters.thetaSq,
                grad_sq: l.filters.gradSq,
                theta_dot_grad: l.filters.thetaDotGrad,
                theta_dot_hg: l.filters.thetaDotHg,
                ...(l.filters.distInitSq.length ? { dist_init_sq: l.filters.distInitSq } : {}),
              },
            }
          : {}),
      })),
      total: libValues(r.total),
      imagesUsed: r.imagesUsed,
      hessianImages: r.hessianImages,
    };
  } finally {
    client.close();
    await svc.stop();
  }
}

export async function runFlowCommand(o: FlowOptions): Promise<void> {
  for (const [flag, v] of [['--batch-size', o.batchSize], ['--samples', o.samples], ['--num-classes', o.numClasses]] as const)
    if (!Number.isInteger(v) || v < 1) throw new ImportanceCliError(`${flag} must be a positive integer, got ${v}`);
  const given = { T: o.T, grasp_T: o.graspT, imp_samples: o.samples, batch_size: o.batchSize, exact_decisions: o.exactDecisions ? 1 : 0 };
  let params: Record<string, number>;
  try {
    params = resolveParams(GRADIENT_FLOW_INFO, given);
  } catch (e) {
    throw new ImportanceCliError((e as Error).message);
  }
  await initBackend({ log: (m) => (o.verbose ? console.error(m) : undefined) });
  const model = Model.fromSafeTensors(new Uint8Array(readFileSync(o.weights)), { arch: parseArch(o.arch), numClasses: o.numClasses }, o.weights);
  try {
    const initBytes = o.initWeights ? new Uint8Array(readFileSync(o.initWeights)) : undefined;
    // Exactly the batches loss_based (ḡ) and grasp (Hḡ) would read.
    const infos = ['loss_based', 'grasp'].map((n) => getMeasure(n).info);
    const batches = neededBatches(fileBatches(o.data, o.numClasses, o.batchSize), infos, o.samples, o.numClasses);
    let flow: GradientFlow;
    if (o.inProcess) {
      const started = performance.now();
      const initWeights = initBytes ? initWeightsFromSafeTensors(initBytes, model, '--init-weights') : undefined;
      flow = await gradientFlow({ model, params, data: batchListData(batches), initWeights }, { perFilter: o.perFilter });
      console.error(`gradient flow: ${((performance.now() - started) / 1000).toFixed(1)} s, ${flow.imagesUsed} images for ḡ, ${flow.hessianImages} for Hḡ (in process)`);
    } else {
      flow = await throughService(o, model, initBytes, batches, params);
    }
    writeFileSync(o.out, `${JSON.stringify({ params, ...flow }, null, 1)}\n`);
    const t = flow.total;
    console.error(
      `total: ‖θ‖² ${t.theta_sq.toPrecision(6)}, ‖ḡ‖² ${t.grad_sq.toPrecision(6)}, θᵀḡ ${t.theta_dot_grad.toPrecision(6)}, θᵀHḡ ${t.theta_dot_hg.toPrecision(6)}; ${flow.layers.length} layers → ${o.out}`,
    );
  } finally {
    model.dispose();
  }
}
