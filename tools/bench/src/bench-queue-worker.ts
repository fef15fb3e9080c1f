// One "trainer" of the queue bench: claims runs from a shared file store until the queue is empty,
// starting each (a fenced `started` event, as a trainer's first write) and releasing it at once.
// Prints one JSON line: the claim latencies in ms and how many runs it started.
import { FileRunStore } from '@flowprune/store';

const [root, holder, leaseMs] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const store = new FileRunStore({ root });
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const latencies: number[] = [];
for (;;) {
  const t0 = performance.now();
  const run = await store.claimRun(holder, leaseMs);
  if (!run) break;
  latencies.push(performance.now() - t0);
  await store.appendEvent(run.id, { type: 'started' }, { fence: run.lease!.token });
  await store.releaseRun(run.id, run.lease!.token, { status: 'completed' });
}
process.stdout.write(`${JSON.stringify({ latencies })}\n`);
