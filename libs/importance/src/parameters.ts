// The tunable parameters of the measures, with the paper's defaults (docs/pruning-semantics.md §1).
import type { MeasureParameterInfo } from './measure.js';

export const TEMPERATURE: MeasureParameterInfo = {
  name: 'T',
  description: 'temperature of the first-order loss: mean cross-entropy of logits / T',
  defaultValue: 5,
  min: 1e-3,
  max: 1e4,
  runSetting: 'temperature',
};

export const GRASP_T: MeasureParameterInfo = {
  name: 'grasp_T',
  description: 'temperature of the Hessian-gradient product of grasp',
  defaultValue: 200,
  min: 1e-3,
  max: 1e4,
  runSetting: 'graspTemperature',
};

export const GRAD_PRESERVE_T: MeasureParameterInfo = {
  name: 'grad_preserve_T',
  description: 'temperature of the Hessian-gradient product of grad_preserve (the paper forces 1)',
  defaultValue: 1,
  min: 1e-3,
  max: 1e4,
  runSetting: 'graspTemperature',
};

export const IMP_SAMPLES: MeasureParameterInfo = {
  name: 'imp_samples',
  description:
    'sample budget: first-order measures read whole batches until this many images were consumed; ' +
    'Hessian measures take int(imp_samples / classes) images of every class',
  defaultValue: 2560,
  min: 1,
  max: 10_000_000,
  integer: true,
  runSetting: 'impSamples',
};

export const EXACT_DECISIONS: MeasureParameterInfo = {
  name: 'exact_decisions',
  description:
    '1: every ReLU sign and max-pool winner as a float64 forward pass decides it, so results match float64 ' +
    'references (each image is evaluated once more in float64 on the host: ~1 s per image for VGG-13); ' +
    '0: plain float32, as the original ran',
  defaultValue: 0,
  min: 0,
  max: 1,
  integer: true,
};

export const BATCH_SIZE: MeasureParameterInfo = {
  name: 'batch_size',
  description: 'batch size when the estimator reads a dataset (inline batches keep their own sizes)',
  defaultValue: 128,
  min: 1,
  max: 4096,
  integer: true,
};
