// A summary-table row that points at the run's trace, when this process wrote one to a file.
import { telemetryDestination } from '@flowprune/telemetry/start';

export function traceRow(runId: string, runsDir: string): [string, string][] {
  const dest = telemetryDestination();
  if (!dest) return [];
  if (dest.startsWith('OTLP')) return [['trace', `sent to ${dest} (flowprune.run.id=${runId})`]];
  return [['trace', `npx flowprune trace ${runId} --store ${runsDir}`]];
}
