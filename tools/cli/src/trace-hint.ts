// A summary-table row that points at the run's trace, when this process wrote one to a file.
import { redactUri } from '@flowprune/common';
import { telemetryDestination } from '@flowprune/telemetry/start';

export function traceRow(runId: string, runsDir: string): [string, string][] {
  const dest = telemetryDestination();
  if (!dest) return [];
  if (dest.startsWith('OTLP')) return [['trace', `sent to ${redactUri(dest)} (flowprune.run.id=${runId})`]]; // an endpoint may carry user:token@
  return [['trace', `npx flowprune trace ${runId} --store ${runsDir}`]];
}
