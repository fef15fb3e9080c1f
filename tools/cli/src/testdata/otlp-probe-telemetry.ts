// Imported first by otlp-probe.ts, like a service's telemetry.ts.
import { startTelemetry } from '@flowprune/telemetry/start';

startTelemetry('flowprune-otlp-probe');
