// Imported first by main.ts: starts OpenTelemetry before @grpc/grpc-js is loaded anywhere, so the
// gRPC instrumentation can patch it (see libs/telemetry/src/start.ts).
import { startTelemetry } from '@flowprune/telemetry/start';

startTelemetry('flowprune-random-estimator');
