// Follows a run's WatchRun stream with progress bars (TTY) or plain lines (logs, CI).
import cliProgress from 'cli-progress';
import { dependencyOf, logRetry, resilientStream, rpcDefaults } from '@flowprune/grpc';
import type { RunEvent, RunSummary, TrainerServiceClient, WatchRunResponse } from '@flowprune/proto';

export interface WatchResult {
  summary?: RunSummary;
  failure?: string;
  events: RunEvent[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/**
 * WatchRun, re-opened when the trainer is briefly unreachable. A new stream replays the run's
 * events (all but progress) before the live ones, so the ones already seen are skipped.
 */
export async function* runEvents(client: TrainerServiceClient, runId: string): AsyncGenerator<RunEvent> {
  const d = rpcDefaults();
  let durableSeen = 0;
  let replaySkip = 0;
  const open = () => {
    replaySkip = durableSeen;
    return client.watchRun({ runId });
  };
  const messages = resilientStream<WatchRunResponse>(open, {
    dependency: dependencyOf(client, 'trainer'),
    // A run is silent while an estimate computes (up to the compute deadline).
    idleMs: d.computeDeadlineMs + d.retry.dependencyTimeoutMs,
    policy: d.retry,
    onRetry: logRetry,
  });
  for await (const msg of messages) {
    const e = msg.event;
    if (!e) continue;
    if (!e.progress) {
      if (replaySkip > 0) {
        replaySkip--;
        continue;
      }
      durableSeen++;
    }
    yield e;
  }
}

export async function watchRun(client: TrainerServiceClient, runId: string, out: NodeJS.WriteStream = process.stderr): Promise<WatchResult> {
  const tty = Boolean(out.isTTY);
  const bars = new cliProgress.MultiBar(
    { stream: out, clearOnComplete: false, hideCursor: true, format: ' {label} |{bar}| {value}/{total} {info}', barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  const log = (line: string) => (tty ? bars.log(`${line}\n`) : out.write(`${line}\n`));
  let epochBar: cliProgress.SingleBar | undefined;
  let batchBar: cliProgress.SingleBar | undefined;
  const result: WatchResult = { events: [] };
  try {
    for await (const e of runEvents(client, runId)) {
      result.events.push(e);
      if (e.started) {
        log(`run ${runId}: ${e.started.arch} on ${e.started.backend}, ${e.started.totalEpochs} epochs, ${e.started.parameters.toLocaleString()} parameters`);
        if (tty) {
          epochBar = bars.create(e.started.totalEpochs, 0, { label: 'epochs ', info: '' });
          batchBar = bars.create(e.started.trainBatches, 0, { label: 'batches', info: '' });
        }
      } else if (e.progress && batchBar) {
        batchBar.setTotal(e.progress.batches);
        batchBar.update(e.progress.batch, { info: `${e.progress.phase} epoch ${e.progress.epoch} loss ${e.progress.loss.toFixed(4)}` });
      } else if (e.epoch) {
        const p = e.epoch;
        epochBar?.increment(1, { info: `test acc ${pct(p.testAccuracy)}` });
        log(`  epoch ${p.epoch} [${p.phase}] lr ${p.lr} train loss ${p.trainLoss.toFixed(4)} acc ${pct(p.trainAccuracy)} | test acc ${pct(p.testAccuracy)} (${p.seconds.toFixed(1)} s)`);
      } else if (e.round) {
        const r = e.round;
        log(`  round ${r.round}: pruned ${pct(r.prunedFraction)} of channels with ${r.measure} (${r.estimator}); accuracy before fine-tuning ${pct(r.accuracyBeforeFinetune)}; FLOPs ${r.flops.toLocaleString()}`);
      } else if (e.stage && !tty && e.stage.stage !== 'train' && e.stage.stage !== 'test') {
        log(`  ${e.stage.stage}: ${e.stage.detail} (${e.stage.seconds.toFixed(2)} s)`);
      } else if (e.finished) {
        result.summary = e.finished.summary;
      } else if (e.failed) {
        result.failure = e.failed.message;
      }
    }
  } finally {
    bars.stop();
  }
  return result;
}
