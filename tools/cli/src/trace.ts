// `flowprune trace RUN`: reads a run's trace file and prints where its time went.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { traceFilePath } from '@flowprune/telemetry';
import { DATA_WAIT, readTraceFile, summariseTrace, type TraceSummary } from '@flowprune/trace-analysis';
import { closeStore, storeFrom } from './store-option.js';
import { WORKSPACE } from './paths.js';

export interface TraceOptions {
  store: string;
  traceDir?: string;
}

export interface TraceReport extends TraceSummary {
  runId: string;
  traceFile: string;
  skippedLines: number;
}

const isUri = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** The trace directory: --trace-dir, FLOWPRUNE_TRACE_DIR, the store directory, else the workspace's runs/. */
export function traceDirOf(o: TraceOptions): string {
  return o.traceDir ?? process.env.FLOWPRUNE_TRACE_DIR ?? (isUri(o.store) ? join(WORKSPACE, 'runs') : o.store);
}

export async function traceReport(runId: string, o: TraceOptions): Promise<TraceReport> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(runId)) throw new Error(`"${runId}" is not a run id (e.g. 20261124-153012-ab12cd)`);
  const file = traceFilePath(traceDirOf(o), runId);
  if (!existsSync(file))
    throw new Error(
      `no trace file at ${file}: the run was traced elsewhere (OTEL_EXPORTER_OTLP_ENDPOINT sends spans to a collector; --trace-dir names another directory) or with OTEL_SDK_DISABLED=true`,
    );
  const { spans, skippedLines } = readTraceFile(file);
  if (spans.length === 0) throw new Error(`${file} holds no spans`);
  const store = storeFrom(o.store);
  let wallSeconds: number | undefined;
  try {
    const record = await store.getRun(runId).catch(() => null);
    const w = record?.summary?.wallSeconds;
    wallSeconds = typeof w === 'number' ? w : undefined;
  } finally {
    await closeStore(store);
  }
  return { runId, traceFile: file, skippedLines, ...summariseTrace(spans, { wallSeconds }) };
}

const s2 = (x: number) => x.toFixed(2).padStart(9);
const pct = (x: number, of: number) => `${(of > 0 ? (100 * x) / of : 0).toFixed(1).padStart(6)} %`;

export function formatTraceReport(r: TraceReport): string {
  const out: string[] = [];
  const wall = r.wallSeconds;
  out.push(`run ${r.runId}: ${r.traceIds.length} trace(s) ${r.traceIds.map((t) => t.slice(0, 16)).join(', ')}, ${r.spans} spans from ${r.services.length} services`);
  out.push(`wall time ${wall.toFixed(2)} s (${r.wallSource})${r.skippedLines ? `; ${r.skippedLines} unreadable line(s) skipped` : ''}`);
  out.push('', `${'stage'.padEnd(22)}${'seconds'.padStart(9)}  ${'of wall'.padStart(8)}`);
  for (const row of r.stages) {
    const label = row.stage === 'train' || row.stage === 'test' ? `${row.stage} (compute)` : row.stage === DATA_WAIT ? `${DATA_WAIT} (train+test)` : row.stage;
    out.push(`${label.padEnd(22)}${s2(row.seconds)}  ${pct(row.seconds, wall)}`);
  }
  out.push(`${'total'.padEnd(22)}${s2(r.stagesTotal)}  ${pct(r.stagesTotal, wall)}`);
  out.push(`${'outside the stages'.padEnd(22)}${s2(Math.max(0, wall - r.stagesTotal))}  ${pct(Math.max(0, wall - r.stagesTotal), wall)}`);

  out.push('', `${'service'.padEnd(32)}${'spans'.padStart(6)}${'busy s'.padStart(10)}${'run waited s'.padStart(14)}`);
  for (const row of r.byService)
    out.push(`${row.service.padEnd(32)}${String(row.spans).padStart(6)}${s2(row.busySeconds).padStart(10)}${(row.blockingSeconds > 0 ? s2(row.blockingSeconds) : '—').padStart(14)}`);
  out.push(`${'gRPC transport (client − server)'.padEnd(48)}${s2(r.grpcTransportSeconds).padStart(14)}`);
  out.push('  busy: self time of the service\'s spans (stream producing time for the data-loader);');
  out.push('  run waited: time the run loop was blocked on the service (its calls; data wait for the data-loader)');

  out.push('', `critical path ${r.criticalPath.seconds.toFixed(2)} s (from the run span):`);
  for (const p of r.criticalPath.rows.slice(0, 10))
    out.push(`${s2(p.seconds)} s ${pct(p.seconds, r.criticalPath.seconds)}  ${p.service.padEnd(32)} ${p.name}`);

  const t = r.training;
  out.push('');
  out.push(
    `training: ${t.images} images in ${t.seconds.toFixed(2)} s = ${t.imagesPerSecond.toFixed(1)} img/s; data wait ${r.dataWaitSeconds.toFixed(2)} s` +
      (t.sampledBatches ? `; ${t.sampledBatches} sampled batch(es): p50 ${t.batchP50.toFixed(3)} s, p95 ${t.batchP95.toFixed(3)} s` : ''),
  );
  if (r.estimates.length)
    out.push(`importance estimates: ${r.estimates.map((e) => `${e.measure} ${e.calls} call(s), ${(e.seconds / e.calls).toFixed(2)} s each`).join('; ')}`);
  const top = r.criticalPath.rows[0];
  if (top) out.push(`bottleneck: ${top.service} (${top.name}), ${pct(top.seconds, r.criticalPath.seconds).trim()} of the critical path`);
  return out.join('\n');
}
