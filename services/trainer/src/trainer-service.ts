// TrainerService: thin adapter from RPCs to the RunManager.
import { invalidArgument, serverStream, unary } from '@flowprune/grpc';
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

export function makeTrainerService(runs: RunManager): TrainerServiceServer {
  return {
    startRun: unary<StartRunRequest, StartRunResponse>(async (req) => {
      if (!req.spec) throw invalidArgument('spec', 'is required');
      return { runId: await runs.start(req.spec) };
    }),
    watchRun: serverStream<WatchRunRequest, WatchRunResponse>(async function* (req) {
      if (!req.runId) throw invalidArgument('run_id', 'is required');
      let known = false;
      for await (const e of runs.watch(req.runId)) {
        // Once the run is known to exist, the watch's span joins the run's trace file.
        if (!known) annotateActiveSpan({ [ATTR_RUN_ID]: req.runId });
        known = true;
        yield { event: toProtoEvent(req.runId, e.unixMs, e.body) };
      }
    }),
    cancelRun: unary<CancelRunRequest, CancelRunResponse>(async (req) => {
      if (!req.runId) throw invalidArgument('run_id', 'is required');
      return { status: runs.cancel(req.runId) };
    }),
    resumeRun: unary<ResumeRunRequest, ResumeRunResponse>(async (req) => {
      if (!req.runId) throw invalidArgument('run_id', 'is required');
      const r = await runs.resume(req.runId);
      return { runId: req.runId, nextEpoch: r.nextEpoch, totalEpochs: r.totalEpochs };
    }),
  };
}
