// Attribute and span names flowprune puts on its telemetry. Written by the run loop and the
// services, read back by the trace summary, so both sides share these constants.
//
// Semantic conventions: `service.*` and `rpc.*` follow OpenTelemetry's; the incubating ones used
// here are copied rather than imported from `@opentelemetry/semantic-conventions/incubating`, as
// that package advises (its incubating names may change in minor versions). Everything of our own
// lives under the `flowprune.` namespace.

export { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** Incubating resource attributes (semantic-conventions `service.*`). */
export const ATTR_SERVICE_NAMESPACE = 'service.namespace';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
/** Incubating `rpc.*` attributes the gRPC instrumentation sets (read by the trace summary). */
export const ATTR_RPC_SERVICE = 'rpc.service';
export const ATTR_RPC_METHOD = 'rpc.method';

/** The run a span belongs to (also carried as W3C baggage so every service knows it). */
export const ATTR_RUN_ID = 'flowprune.run.id';
/** Which compute backend a process runs on (resource attribute; `none` for processes that do not compute). */
export const ATTR_COMPUTE_BACKEND = 'flowprune.compute.backend';
/** A run-loop stage span: train, test, estimate, prune, evaluate or checkpoint. */
export const ATTR_STAGE = 'flowprune.stage';
export const ATTR_STAGE_DETAIL = 'flowprune.stage.detail';
export const ATTR_PHASE = 'flowprune.phase';
export const ATTR_EPOCH = 'flowprune.epoch';
export const ATTR_ROUND = 'flowprune.round';
export const ATTR_ARCH = 'flowprune.arch';
export const ATTR_MEASURE = 'flowprune.measure';
/** Seconds a consumer waited for the next batch (train/test stage spans and sampled batch spans). */
export const ATTR_DATA_WAIT = 'flowprune.data_wait.duration';
/** Images a train/test stage or batch processed. */
export const ATTR_IMAGES = 'flowprune.images';
export const ATTR_BATCH_INDEX = 'flowprune.batch.index';
/** Set on server-streaming RPC spans: they run beside their caller rather than blocking it. */
export const ATTR_RPC_STREAMING = 'flowprune.rpc.streaming';
/** Seconds a server-streaming handler spent producing messages / waiting for the client to drain. */
export const ATTR_STREAM_PRODUCE = 'flowprune.stream.produce.duration';
export const ATTR_STREAM_BACKPRESSURE = 'flowprune.stream.backpressure.duration';
export const ATTR_STREAM_MESSAGES = 'flowprune.stream.messages';

/** Baggage key of the run id. */
export const BAGGAGE_RUN_ID = ATTR_RUN_ID;

/** Stages of the run loop, in the order the breakdown prints them. */
export const STAGES = ['train', 'test', 'estimate', 'prune', 'evaluate', 'checkpoint'] as const;
export type Stage = (typeof STAGES)[number];

/** Span names of the run loop. */
export const SPAN_RUN = 'run';
export const SPAN_EPOCH = 'epoch';
export const SPAN_ROUND = 'round';
export const SPAN_TRAIN_BATCH = 'train batch';

/** Instrumentation scope of flowprune's own spans and metrics. */
export const SCOPE = 'flowprune';
