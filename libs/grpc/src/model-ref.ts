import type { ModelRef } from '@flowprune/proto';
import { invalidArgument, notFound } from './errors.js';

/** The part of a run store a service needs to read checkpoints (kept structural: no store import). */
export interface CheckpointReader {
  getCheckpoint(runId: string, name: string): Promise<{ bytes: Uint8Array } | null>;
}

/** Safetensors bytes of a ModelRef: inline, or a checkpoint in the shared run store. */
export async function modelRefBytes(ref: ModelRef | undefined, store: CheckpointReader, field = 'model'): Promise<Uint8Array> {
  if (ref?.safetensors && ref.safetensors.length > 0) return ref.safetensors;
  const cp = ref?.checkpoint;
  if (!cp) throw invalidArgument(field, 'is required: give checkpoint {run_id, name} or inline safetensors bytes');
  if (!cp.runId || !cp.name) throw invalidArgument(`${field}.checkpoint`, 'needs both run_id and name');
  const found = await store.getCheckpoint(cp.runId, cp.name);
  if (!found) throw notFound(`${field}.checkpoint: run ${cp.runId} has no checkpoint "${cp.name}"`);
  return found.bytes;
}
