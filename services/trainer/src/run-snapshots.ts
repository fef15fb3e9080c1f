// A run's resume state in the store: two alternating slots (a crash while writing one leaves the
// other whole), committed by naming the slot in the run document (its `resume`, run-document.ts).
import { failedPrecondition } from '@flowprune/grpc';
import { Model } from '@flowprune/models';
import type { RunStore } from '@flowprune/store';
import { decodeBuffers, encodeBuffers, resumeDocument, type ResumePoint, type RunSnapshot } from '@flowprune/training';

/** Writes the free slot, then `beforeCommit` (the epoch's stats), then names the slot: the commit. */
export async function saveSnapshot(store: RunStore, id: string, s: RunSnapshot, beforeCommit?: () => Promise<void>): Promise<void> {
  const slot = s.progress.nextEpoch % 2 === 0 ? 'a' : 'b';
  await store.putCheckpoint(id, `resume-${slot}-model`, s.model.toSafeTensors());
  await store.putCheckpoint(id, `resume-${slot}-optimizer`, encodeBuffers(s.buffers));
  if (s.initModel) await store.putCheckpoint(id, `resume-${slot}-init`, s.initModel.toSafeTensors());
  await beforeCommit?.();
  await store.updateRun(id, { resume: resumeDocument({ slot, progress: s.progress }) });
}

export async function loadSnapshot(store: RunStore, id: string, { slot, progress }: ResumePoint): Promise<RunSnapshot> {
  const get = async (part: string) => (await store.getCheckpoint(id, `resume-${slot}-${part}`))?.bytes;
  const [modelBytes, optBytes, initBytes] = [await get('model'), await get('optimizer'), await get('init')];
  if (!modelBytes || !optBytes) throw failedPrecondition(`run ${id}: resume slot ${slot} is incomplete in the store`);
  return {
    progress,
    model: Model.fromSafeTensors(modelBytes, {}, `run ${id} resume model`),
    buffers: decodeBuffers(optBytes),
    initModel: initBytes ? Model.fromSafeTensors(initBytes, {}, `run ${id} resume θ₀`) : undefined,
  };
}
