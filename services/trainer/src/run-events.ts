// libs/training's run events → flowprune.v1.RunEvent: each streamed kind is the RunEvent field of
// the same name and its payload is that message, field for field (checked at compile time below).
import type { RunEvent } from '@flowprune/proto';
import type { RunEventBody } from '@flowprune/training';

/** Kinds stored with the run but not streamed (no RunEvent field). */
type StoredOnlyKind = 'analysis';
type StreamedKind = Exclude<RunEventBody['kind'], StoredOnlyKind>;
type StreamedEvent = Extract<RunEventBody, { kind: StreamedKind }>;
type Payload<K extends StreamedKind> = Omit<Extract<RunEventBody, { kind: K }>, 'kind'>;
type Message<K extends keyof RunEvent> = NonNullable<RunEvent[K]>;
/** Kinds whose payload is not exactly their message: a missing or mistyped field, or one the wire would drop. */
type MismatchedKind = {
  [K in StreamedKind]: K extends keyof RunEvent ? (Payload<K> extends Message<K> ? ([Exclude<keyof Payload<K>, keyof Message<K>>] extends [never] ? never : K) : K) : K;
}[StreamedKind];
// A kind without a RunEvent field of its name, or whose payload is not that message, fails to compile here, naming it.
const payloadsMatch: [MismatchedKind] extends [never] ? true : MismatchedKind = true;
void payloadsMatch;

const isStreamed = (e: RunEventBody): e is StreamedEvent => e.kind !== ('analysis' satisfies StoredOnlyKind);

/** The event as WatchRun sends it; undefined for kinds that are only stored. */
export function toProtoEvent(runId: string, unixMs: number, e: RunEventBody): RunEvent | undefined {
  if (!isStreamed(e)) return undefined;
  const { kind, ...payload } = e;
  return { runId, unixMs, [kind]: payload } as RunEvent;
}
