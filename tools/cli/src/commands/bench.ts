import type { Command } from 'commander';
import { parseArch } from '@flowprune/models';
import { runBench } from '@flowprune/bench';

interface BenchFlags {
  suites: string;
  backends: string;
  measures: string;
  impSamples: number;
  measuresBatchSize: number;
  measuresSamples: number;
  archs: string;
  batchSize: number;
  steps: number;
  dataBatchSize: number;
  dataImages: number;
  dataEpochs: number;
  tracingReps: number;
  loadCalls: number;
  loadConcurrency: number;
  loadStreams: number;
  queueRuns: number;
  analysisArch: string;
  analysisBatches: number;
  analysisEvery: number;
  analysisReps: number;
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('speed benchmarks, printed as ratios (suites: backends, importance, measures, models, kernels, latency, profile, data, tracing, load, queue, analysis)')
    .option('--suites <list>', 'comma-separated suites', 'backends,importance,measures,latency,data,tracing,load')
    .option('--backends <list>', "flowprune backends of the backends suite ('auto': every one available)", 'auto')
    .option('--archs <list>', 'architectures for the backends, importance, models, latency and profile suites', 'vgg13,resnet56,mobilenet_v1')
    .option('--measures <list>', 'measures of the importance suite', 'mag_based,loss_based,grasp')
    .option('--imp-samples <n>', 'sample budget of the importance suite (imp_samples)', Number, 2560)
    .option('--measures-batch-size <n>', 'batch size of the measures suite (every measure on the active backend)', Number, 32)
    .option('--measures-samples <n>', 'imp_samples of the measures suite', Number, 64)
    .option('--batch-size <n>', 'batch size', Number, 128)
    .option('--steps <n>', 'timed steps per architecture and mode', Number, 5)
    .option('--data-batch-size <n>', 'batch size of the data suite', Number, 128)
    .option('--data-images <n>', 'synthetic training images the data suite streams', Number, 5000)
    .option('--data-epochs <n>', 'timed epochs of the data suite', Number, 5)
    .option('--tracing-reps <n>', 'demo runs with tracing off and on, each, in the tracing suite', Number, 1)
    .option('--load-calls <n>', 'Estimate calls of the load suite', Number, 64)
    .option('--load-concurrency <n>', 'Estimate calls in flight at once in the load suite', Number, 16)
    .option('--load-streams <n>', 'concurrent StreamBatches epochs of the load suite (of --data-images images)', Number, 8)
    .option('--queue-runs <n>', 'queued runs the queue suite drains with 1 and with 4 trainers', Number, 200)
    .option('--analysis-arch <arch>', 'architecture of the analysis suite', 'mobilenet_v1')
    .option('--analysis-batches <n>', 'training batches per run of the analysis suite', Number, 100)
    .option('--analysis-every <k>', 'analysis every k batches in the analysis suite', Number, 50)
    .option('--analysis-reps <n>', 'runs of each mode (without, with analysis) in the analysis suite', Number, 1)
    .action(async (o: BenchFlags) => {
      await runBench({
        suites: o.suites.split(','),
        ...(o.backends === 'auto' ? {} : { backends: o.backends.split(',') }),
        importance: { measures: o.measures.split(','), impSamples: o.impSamples },
        measures: { batchSize: o.measuresBatchSize, samples: o.measuresSamples },
        archs: o.archs.split(',').map(parseArch),
        batchSize: o.batchSize,
        steps: o.steps,
        data: { batchSize: o.dataBatchSize, images: o.dataImages, epochs: o.dataEpochs },
        tracing: { reps: o.tracingReps },
        analysis: { arch: o.analysisArch, batches: o.analysisBatches, everyBatches: o.analysisEvery, reps: o.analysisReps },
        load: { estimateCalls: o.loadCalls, estimateConcurrency: o.loadConcurrency, streams: o.loadStreams, images: o.dataImages },
        queue: { runs: o.queueRuns, trainers: [1, 4] },
      });
    });
}
