// TrainerService: thin adapter from RPCs to the RunManager.
import { serverStream, unary } from '@flowprune/grpc';
import type {
  CancelRunRequest,
  CancelRunResponse,
  ResumeRunRequest,
  ResumeRunResponse,
  StartRunRequest,
  StartRunResponse,
  TrainerServiceServer,
  WatchRunRequest,
  WatchRunResponse,
} from '@flowprune/proto';
import { annotateActiveSpan, ATTR_RUN_ID } from '@flowprune/telemetry';
import type { RunManager } from './run-manager.js';
import { toProtoEvent } from './run-events.js';
import { checkRunId, validateRunSpec } from './spec-validation.js';

export function makeTrainerService(runs: RunManager): TrainerServiceServer {
  return {
    startRun: unary<StartRunRequest, StartRunResponse>(async (req) => {
      return { runId: await runs.start(validateRunSpec(req.spec)) };
    }),
    watchRun: serverStream<WatchRunRequest, WatchRunResponse>(async function* (req) {
      checkRunId(req.runId);
      let known = false;
      for await (const e of runs.watch(req.runId)) {
        // Once the run is known to exist, the watch's span joins the run's trace file.
        if (!known) annotateActiveSpan({ [ATTR_RUN_ID]: req.runId });
        known = true;
        const event = toProtoEvent(req.runId, e.unixMs, e.body);
        if (event) yield { event };
      }
    }),
    cancelRun: unary<CancelRunRequest, CancelRunResponse>(async (req) => {
      checkRunId(req.runId);
      return { status: await runs.cancel(req.runId) };
    }),
    resumeRun: unary<ResumeRunRequest, ResumeRunResponse>(async (req) => {
      checkRunId(req.runId);
      const r = await runs.resume(req.runId);
      return { runId: req.runId, nextEpoch: r.nextEpoch, totalEpochs: r.totalEpochs };
    }),
  };
}
