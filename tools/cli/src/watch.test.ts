// watchRun over a WatchRun stream that breaks (UNAVAILABLE) mid-run: the re-opened stream replays
// the run's durable events, which are skipped, so every event is reported exactly once.
import { strict as assert } from 'node:assert';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { status, type ServerWritableStream } from '@grpc/grpc-js';
import { makeClient, startServer } from '@flowprune/grpc';
import { TrainerServiceClient, TrainerServiceService, type RunEvent, type TrainerServiceServer, type WatchRunRequest, type WatchRunResponse } from '@flowprune/proto';
import { watchRun } from './watch.js';

const ev = (unixMs: number, body: Partial<RunEvent>): RunEvent => ({ runId: 'r1', unixMs, ...body });
const started = ev(1, { started: { arch: 'vgg13', backend: 'wasm', totalEpochs: 2, trainBatches: 2, parameters: 1, flops: 1 } });
const progress = (t: number, epoch: number) => ev(t, { progress: { phase: 'warmup', epoch, batch: 1, batches: 2, loss: 1 } });
const epoch = (t: number, e: number) => ev(t, { epoch: { phase: 'warmup', epoch: e, lr: 0.1, trainLoss: 1, trainAccuracy: 0.5, testLoss: 1, testAccuracy: 0.5, seconds: 1 } });
const finished = ev(9, { finished: { summary: undefined } });

test('a WatchRun stream broken mid-run is re-opened; replayed events are not reported twice', async () => {
  let opens = 0;
  const impl: TrainerServiceServer = {
    startRun: (_c, cb) => cb({ code: status.UNIMPLEMENTED, details: 'fake' }),
    cancelRun: (_c, cb) => cb({ code: status.UNIMPLEMENTED, details: 'fake' }),
    resumeRun: (_c, cb) => cb({ code: status.UNIMPLEMENTED, details: 'fake' }),
    watchRun: (call: ServerWritableStream<WatchRunRequest, WatchRunResponse>) => {
      const send = (events: RunEvent[]) => events.forEach((event) => call.write({ event }));
      if (opens++ === 0) {
        send([started, progress(2, 0), epoch(3, 0), progress(4, 1)]);
        call.emit('error', { code: status.UNAVAILABLE, details: 'trainer connection lost' });
      } else {
        // Replay of the durable events so far, then the live ones.
        send([started, epoch(3, 0), progress(5, 1), epoch(6, 1), finished]);
        call.end();
      }
    },
  };
  const server = await startServer({ address: '127.0.0.1:0', services: [{ name: 'flowprune.v1.TrainerService', definition: TrainerServiceService, implementation: impl }] });
  const client = makeClient(TrainerServiceClient, server.address);
  try {
    const out = new PassThrough();
    out.resume();
    const res = await watchRun(client, 'r1', out as unknown as NodeJS.WriteStream);
    assert.equal(opens, 2);
    assert.deepEqual(
      res.events.map((e) => e.unixMs),
      [1, 2, 3, 4, 5, 6, 9],
    );
    assert.equal(res.failure, undefined);
  } finally {
    client.close();
    await server.shutdown(100);
  }
});
