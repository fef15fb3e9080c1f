import Table from 'cli-table3';
import type { RunSummary } from '@flowprune/proto';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(2)} %` : '—');
const num = (x: number) => x.toLocaleString('en-US');

/** Colours only on a terminal, so logs and CI output stay plain text. */
const style = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } });

/** The demo's result: sizes and accuracies around pruning, and where the time went. */
export function summaryTables(s: RunSummary, extra: [string, string][] = []): string {
  const main = new Table({ head: ['', 'before pruning', 'right after pruning', 'after fine-tuning'], ...style() });
  main.push(
    ['accuracy (test)', pct(s.accuracyBeforePruning), pct(s.accuracyAfterPruning), pct(s.accuracyAfterFinetune)],
    ['parameters', num(s.parametersBefore), num(s.parametersAfter), num(s.parametersAfter)],
    ['FLOPs (ptflops MACs)', num(s.flopsBefore), num(s.flopsAfter), num(s.flopsAfter)],
  );
  // Measured latency (p50), per engine and batch size, of the unpruned and the final model.
  for (const [i, after] of (s.latency?.after ?? []).entries()) {
    const before = s.latency!.before[i];
    if (before) main.push([`latency p50, ${after.engine} b=${after.batchSize}`, `${before.p50Ms.toFixed(2)} ms`, '', `${after.p50Ms.toFixed(2)} ms (${(before.p50Ms / after.p50Ms).toFixed(2)}×)`]);
  }
  const info = new Table(style());
  info.push(
    { backend: s.backend },
    { 'FLOPs reduction': `${(100 * (1 - s.flopsAfter / s.flopsBefore)).toFixed(1)} %` },
    { 'compression ratio': `${s.compressionRatio.toFixed(3)}×` },
    ...extra.map(([k, v]) => ({ [k]: v })),
  );
  const stages = new Table({ head: ['stage', 'wall time (s)', 'share'], ...style() });
  const total = s.wallSeconds;
  for (const [stage, secs] of Object.entries(s.stageSeconds).sort((a, b) => b[1] - a[1]))
    stages.push([stage, secs.toFixed(1), `${((100 * secs) / total).toFixed(1)} %`]);
  stages.push(['run total', total.toFixed(1), '100 %']);
  return [main.toString(), info.toString(), stages.toString()].join('\n');
}
