// Imported first by main.ts: starts OpenTelemetry before @grpc/grpc-js is loaded anywhere, so the
// CLI's calls carry trace context (see libs/telemetry/src/start.ts). The CLI's trace files go where
// its run store is by default: the workspace's runs/.
import { join } from 'node:path';
import { startTelemetry } from '@flowprune/telemetry/start';
import { WORKSPACE } from './paths.js';

startTelemetry('flowprune-cli', join(WORKSPACE, 'runs'));
