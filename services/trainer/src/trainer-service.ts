// TrainerService: thin adapter from RPCs to the RunManager.
import { invalidArgument, serverStream, unary } from '@flowprune/grpc';
import type {
  CancelRunRequest,
  CancelRunResponse,
  StartRunRequest,
  StartRunResponse,
  TrainerServiceServer,
  WatchRunRequest,
  WatchRunResponse,
} from '@flowprune/proto';
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
      for await (const e of runs.watch(req.runId)) yield { event: toProtoEvent(req.runId, e.unixMs, e.body) };
    }),
    cancelRun: unary<CancelRunRequest, CancelRunResponse>(async (req) => {
      if (!req.runId) throw invalidArgument('run_id', 'is required');
      return { status: runs.cancel(req.runId) };
    }),
  };
}
