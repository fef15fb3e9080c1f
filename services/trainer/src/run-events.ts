// libs/training's run events ↔ flowprune.v1.RunEvent.
import type { RunEvent } from '@flowprune/proto';
import type { RunEventBody } from '@flowprune/training';

export function toProtoEvent(runId: string, unixMs: number, e: RunEventBody): RunEvent {
  const ev: RunEvent = { runId, unixMs };
  switch (e.kind) {
    case 'started':
      ev.started = { arch: e.arch, backend: e.backend, totalEpochs: e.totalEpochs, trainBatches: e.trainBatches, parameters: e.parameters, flops: e.flops };
      break;
    case 'progress':
      ev.progress = { phase: e.phase, epoch: e.epoch, batch: e.batch, batches: e.batches, loss: e.loss };
      break;
    case 'epoch':
      ev.epoch = {
        phase: e.phase,
        epoch: e.epoch,
        lr: e.lr,
        trainLoss: e.trainLoss,
        trainAccuracy: e.trainAccuracy,
        testLoss: e.testLoss,
        testAccuracy: e.testAccuracy,
        seconds: e.seconds,
      };
      break;
    case 'round':
      ev.round = {
        round: e.round,
        prunedFraction: e.prunedFraction,
        channels: e.channels,
        accuracyBeforeFinetune: e.accuracyBeforeFinetune,
        parameters: e.parameters,
        flops: e.flops,
        measure: e.measure,
        estimator: e.estimator,
      };
      break;
    case 'stage':
      ev.stage = { stage: e.stage, seconds: e.seconds, detail: e.detail };
      break;
    case 'finished':
      ev.finished = { summary: { ...e.summary } };
      break;
    case 'failed':
      ev.failed = { message: e.message };
      break;
  }
  return ev;
}
