// The OpenTelemetry Collector configuration: every pipeline uses components that are defined, and
// receives OTLP on the ports the services send to.
import { asArray, asObj, at, str, type Obj } from './manifests.js';

export function collectorErrors(cfg: Obj, file: string): string[] {
  const errors: string[] = [];
  const pipelines = asObj(at(cfg, 'service.pipelines'));
  if (Object.keys(pipelines).length === 0) errors.push(`${file}: no pipelines`);
  for (const [name, p] of Object.entries(pipelines))
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      const defined = asObj(cfg[kind]);
      const used = asArray(at(p, kind)).map(str);
      if (kind !== 'processors' && used.length === 0) errors.push(`${file}: pipeline ${name} has no ${kind}`);
      for (const c of used) if (!(c in defined)) errors.push(`${file}: pipeline ${name} uses undefined ${kind.slice(0, -1)} ${c}`);
    }
  const grpc = str(at(cfg, 'receivers.otlp.protocols.grpc.endpoint'));
  if (!grpc.endsWith(':4317')) errors.push(`${file}: the otlp receiver must listen for gRPC on :4317 (the services' OTEL_EXPORTER_OTLP_ENDPOINT)`);
  return errors;
}
