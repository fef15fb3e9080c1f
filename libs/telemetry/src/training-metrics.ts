// Metric instruments of the training loop (OpenTelemetry metrics API). Created on first use, after
// the process's SDK has registered its meter provider; without one they are no-ops.
import { metrics, type Counter, type Gauge, type Histogram } from './otel-api.js';
import { SCOPE } from './attributes.js';

export interface TrainingInstruments {
  /** Images trained (`{image}`); its rate is the training throughput. */
  images: Counter;
  /** Images/s of each finished epoch. */
  throughput: Gauge;
  /** Seconds per batch: waiting for data plus computing. */
  batchDuration: Histogram;
  /** Seconds per batch spent waiting for the data-loader. */
  dataWait: Histogram;
  /** Seconds per batch spent computing (forward, backward, optimizer step). */
  compute: Histogram;
  /** Seconds per importance estimate, by measure, as the trainer sees it (gRPC included). */
  estimateDuration: Histogram;
}

let instruments: TrainingInstruments | undefined;

export function trainingMetrics(): TrainingInstruments {
  if (instruments) return instruments;
  const meter = metrics.getMeter(SCOPE);
  const seconds = (name: string, description: string) => meter.createHistogram(name, { unit: 's', description });
  instruments = {
    images: meter.createCounter('flowprune.training.images', { unit: '{image}', description: 'Images trained' }),
    throughput: meter.createGauge('flowprune.training.throughput', { unit: '{image}/s', description: 'Training images per second of the last epoch' }),
    batchDuration: seconds('flowprune.training.batch.duration', 'Wall time of one training batch (data wait + compute)'),
    dataWait: seconds('flowprune.training.data_wait.duration', 'Time one training batch waited for data'),
    compute: seconds('flowprune.training.compute.duration', 'Compute time of one training batch'),
    estimateDuration: seconds('flowprune.estimate.duration', 'Latency of one importance estimate, by measure'),
  };
  return instruments;
}
