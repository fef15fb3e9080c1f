// The CLI's side of a run is the root of the run's trace: the StartRun (or ResumeRun) call and the
// WatchRun stream are its children, and once the run id is known it rides along as W3C baggage so
// every service files its spans under the run. (All no-ops when telemetry is off.)
import { call, rpcDefaults } from '@flowprune/grpc';
import type { RunSpec, TrainerServiceClient } from '@flowprune/proto';
import { ATTR_RUN_ID, inSpan, runInContext, withRunId } from '@flowprune/telemetry';
import { watchRun, type WatchResult } from './watch.js';

/**
 * StartRun and ResumeRun are not retried (a second StartRun would start a second run), but the
 * trainer may itself wait for a data-loader or estimator before answering: give it that long.
 */
const startDeadlineMs = () => rpcDefaults().quickDeadlineMs + rpcDefaults().retry.dependencyTimeoutMs;

export async function startAndWatch(client: TrainerServiceClient, spec: RunSpec): Promise<WatchResult & { runId: string }> {
  return inSpan(
    'flowprune run',
    {},
    async (span) => {
      const { runId } = await call(client, client.startRun, { spec }, startDeadlineMs());
      span.setAttribute(ATTR_RUN_ID, runId);
      const res = await runInContext(withRunId(runId), () => watchRun(client, runId));
      return { ...res, runId };
    },
    { root: true },
  );
}

export async function resumeAndWatch(client: TrainerServiceClient, runId: string): Promise<WatchResult> {
  return inSpan(
    'flowprune resume',
    { [ATTR_RUN_ID]: runId },
    () =>
      runInContext(withRunId(runId), async () => {
        const r = await call(client, client.resumeRun, { runId }, startDeadlineMs());
        process.stderr.write(`resuming ${runId} at epoch ${r.nextEpoch} of ${r.totalEpochs}\n`);
        return watchRun(client, runId);
      }),
    { root: true },
  );
}
