// A process with a password in its command line (as a service with --store mongodb://user:pw@… has)
// that starts telemetry like a service and ends one span of a run: see process-resource.test.ts.
import { startTelemetry } from '../start.js';

startTelemetry('flowprune-secret-probe');
const { inSpan, runInContext, withRunId } = await import('../spans.js');
await runInContext(withRunId(process.env.PROBE_RUN_ID ?? 'probe'), () => inSpan('probe work', {}, async () => undefined));
