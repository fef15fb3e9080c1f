// Starts OpenTelemetry for one flowprune process: the SDK's tracer provider with W3C trace-context
// and baggage propagation over an AsyncLocalStorage context, the gRPC instrumentation (client and
// server spans, context in the call metadata), flowprune's resource attributes, and export to OTLP
// when OTEL_EXPORTER_OTLP_ENDPOINT is set, else to per-run JSON-lines files.
//
// Call it from a module that the entry module imports FIRST (see services/*/src/telemetry.ts):
// @grpc/grpc-js is CommonJS, and the instrumentation patches it through require() hooks, which an
// ESM `import` bypasses. So after registering the instrumentation we load every instrumented package
// once through require(); later ESM imports then bind the patched module. The function is
// synchronous on purpose (a top-level await would let sibling imports run first).
//
// We wire the SDK's parts ourselves rather than use @opentelemetry/sdk-node's NodeSDK, which does
// the same wiring but loads every exporter it knows (logs, Zipkin, Prometheus, protobuf) at start:
// about 0.4 s of CPU per process under tsx, a few per cent of a short run across five processes.
// The parts are loaded with require() only when telemetry is on: OTEL_SDK_DISABLED=true costs nothing.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { context, metrics, propagation, trace } from './otel-api.js';
import type { IMetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_COMPUTE_BACKEND, ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_NAMESPACE, ATTR_SERVICE_VERSION } from './attributes.js';
import { computeBackend } from './compute-backend.js';
import { telemetryConfig, type TelemetryConfig } from './config.js';
import { spanToOtlpJson } from './otlp-json.js';
import { RunFileSpanExporter } from './run-file-exporter.js';
import { RunSpanProcessor } from './run-span-processor.js';
import { withoutCommandLine } from './process-resource.js';

const load = createRequire(import.meta.url);

/** The flowprune release the spans come from (`service.version`). */
const VERSION = (load('../../../package.json') as { version: string }).version;

export interface StartedTelemetry {
  config: TelemetryConfig;
  /** Where spans go: an OTLP endpoint, or the run files' root directory. */
  destination: string;
  /** Flushes and stops the providers. */
  shutdown(): Promise<void>;
}

interface Pipeline {
  processor: SpanProcessor;
  metricReaders: IMetricReader[];
  learn?: (traceId: string, runId: string) => void;
  destination: string;
}

let started: StartedTelemetry | undefined;

/**
 * Starts telemetry once per process; returns undefined when OTEL_SDK_DISABLED=true.
 * `defaultTraceDir`: where run files go when neither FLOWPRUNE_TRACE_DIR nor a store flag says.
 */
export function startTelemetry(serviceName: string, defaultTraceDir = 'runs'): StartedTelemetry | undefined {
  if (started) return started;
  const config = telemetryConfig(serviceName, process.env, process.argv, process.cwd(), defaultTraceDir);
  if (!config.enabled) return undefined;
  const { AsyncLocalStorageContextManager } = load('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
  const core = load('@opentelemetry/core') as typeof import('@opentelemetry/core');
  const { registerInstrumentations } = load('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
  const { GrpcInstrumentation } = load('@opentelemetry/instrumentation-grpc') as typeof import('@opentelemetry/instrumentation-grpc');
  const res = load('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
  const { BasicTracerProvider } = load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');

  // OTEL_RESOURCE_ATTRIBUTES (envDetector) may add to or override ours.
  const resource = res
    .resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: VERSION,
      [ATTR_SERVICE_NAMESPACE]: 'flowprune',
      [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
      [ATTR_COMPUTE_BACKEND]: computeBackend,
    })
    .merge(res.detectResources({ detectors: [res.hostDetector, res.osDetector, withoutCommandLine(res.processDetector), res.envDetector] }));
  const pipeline = config.otlpEndpoint ? otlpPipeline() : filePipeline(config.traceDir);
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors: [new RunSpanProcessor(pipeline.learn), pipeline.processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new core.CompositePropagator({ propagators: [new core.W3CTraceContextPropagator(), new core.W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(tracerProvider);
  let meterProvider: import('@opentelemetry/sdk-metrics').MeterProvider | undefined;
  if (pipeline.metricReaders.length) {
    const { MeterProvider } = load('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
    meterProvider = new MeterProvider({ resource, readers: pipeline.metricReaders });
    metrics.setGlobalMeterProvider(meterProvider);
  }

  // Health probes are not pipeline work; keep them out of the traces.
  const grpc = new GrpcInstrumentation({ ignoreGrpcMethods: [/^(Check|Watch)$/] });
  registerInstrumentations({ instrumentations: [grpc], tracerProvider, meterProvider });
  for (const def of grpc.getModuleDefinitions()) load(def.name);

  const shutdown = async () => {
    await Promise.all([tracerProvider.shutdown(), meterProvider?.shutdown()]);
  };
  // A CLI process ends when its work is done: flush then. (Services flush in runServiceProcess.)
  process.once('beforeExit', () => void shutdown().catch(() => undefined));
  started = { config, destination: pipeline.destination, shutdown };
  return started;
}

/** Where this process's spans go (undefined when telemetry is off). */
export function telemetryDestination(): string | undefined {
  return started?.destination;
}

/** Per-run JSON-lines files; spans are written as they end (nothing is buffered at exit). */
function filePipeline(dir: string): Pipeline {
  const { SimpleSpanProcessor } = load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const exporter = new RunFileSpanExporter({ dir, serialize: spanToOtlpJson });
  return { processor: new SimpleSpanProcessor(exporter), metricReaders: [], learn: exporter.learn, destination: dir };
}

/** OTLP with the protocol of OTEL_EXPORTER_OTLP_PROTOCOL (the specification's default: http/protobuf). */
function otlpPipeline(): Pipeline {
  const env = process.env;
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  let spans: SpanExporter;
  let metricExporter: PushMetricExporter;
  if (protocol === 'grpc') {
    spans = new (load('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
    metricExporter = new (load('@opentelemetry/exporter-metrics-otlp-grpc') as typeof import('@opentelemetry/exporter-metrics-otlp-grpc')).OTLPMetricExporter();
  } else if (protocol === 'http/json') {
    spans = new (load('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    metricExporter = new (load('@opentelemetry/exporter-metrics-otlp-http') as typeof import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter();
  } else {
    spans = new (load('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    metricExporter = new (load('@opentelemetry/exporter-metrics-otlp-proto') as typeof import('@opentelemetry/exporter-metrics-otlp-proto')).OTLPMetricExporter();
  }
  const { BatchSpanProcessor } = load('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  const { PeriodicExportingMetricReader } = load('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
  const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL) || 15_000;
  return {
    processor: new BatchSpanProcessor(spans, { scheduledDelayMillis: 1000 }),
    metricReaders: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: interval })],
    destination: `OTLP ${protocol} ${env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT}`,
  };
}
