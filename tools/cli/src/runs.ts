// `flowprune runs ls|show|compare`: the run store as tables.
import Table from 'cli-table3';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnded, queuePositions, type RunFilter, type RunRecord, type RunStatus, type RunStore } from '@flowprune/store';

const plain = () => (process.stdout.isTTY ? {} : { style: { head: [], border: [] } });
const pct = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : '—');
const num = (x: unknown) => (typeof x === 'number' ? x.toLocaleString('en-US') : '—');

export interface RunsFilterOptions {
  model?: string;
  measure?: string;
  ratio?: number;
  seed?: number;
  status?: string;
}

export function toFilter(o: RunsFilterOptions): RunFilter {
  return {
    model: o.model,
    measure: o.measure,
    pruneRatio: o.ratio,
    seed: o.seed,
    status: o.status ? (o.status.split(',') as RunStatus[]) : undefined,
  };
}

/** Where a run stands in the shared queue: its position while queued, its trainer while running. */
function queueCell(r: RunRecord, positions: Map<string, number>): string {
  if (r.status === 'queued') return `#${positions.get(r.id)} in queue`;
  if (r.status === 'running' && r.lease) return r.lease.expiresAt < new Date().toISOString() ? `${r.lease.holder} (lease expired)` : r.lease.holder;
  return '—';
}

export async function listRunsTable(store: RunStore, filter: RunFilter): Promise<string> {
  const runs = await store.listRuns(filter);
  // Positions count every queued run, not only the listed ones.
  const positions = queuePositions(filter.status === undefined && !filter.model && !filter.measure ? runs : await store.listRuns({ status: 'queued' }));
  const t = new Table({ head: ['run', 'status', 'queue / trainer', 'model', 'dataset', 'measure', 'pruned', 'seed', 'epochs', 'best test acc', 'FLOPs after', 'backend'], ...plain() });
  for (const r of runs)
    t.push([
      r.id,
      r.status,
      queueCell(r, positions),
      r.model,
      r.dataset,
      r.measure ?? '—',
      r.pruneRatio ? `${(r.pruneRatio * 100).toFixed(0)}%` : '—',
      r.seed ?? '—',
      r.stats.length,
      pct(r.summary?.bestTestAccuracy),
      num(r.summary?.flopsAfter),
      r.backend ?? '—',
    ]);
  return `${t.toString()}\n${runs.length} run(s)`;
}

/**
 * Polls the store until every run has ended (the trainers may be anywhere), writing a line as each
 * ends; resolves with their final records in the order given.
 */
export async function waitForRuns(store: RunStore, ids: string[], pollMs: number, out: (line: string) => void): Promise<RunRecord[]> {
  const ended = new Map<string, RunRecord>();
  for (;;) {
    for (const id of ids) {
      if (ended.has(id)) continue;
      const r = await mustGet(store, id);
      if (!isEnded(r.status)) continue;
      ended.set(id, r);
      out(`${r.id} ${r.status}${r.error ? `: ${r.error.message}` : ''}${typeof r.summary?.bestTestAccuracy === 'number' ? ` (best test acc. ${pct(r.summary.bestTestAccuracy)})` : ''}`);
    }
    if (ended.size === ids.length) return ids.map((id) => ended.get(id)!);
    await sleep(pollMs);
  }
}

async function mustGet(store: RunStore, id: string): Promise<RunRecord> {
  const r = await store.getRun(id);
  if (!r) throw new Error(`run ${id} not found in the store (see \`flowprune runs ls\`)`);
  return r;
}

export async function showRun(store: RunStore, id: string): Promise<string> {
  const r = await mustGet(store, id);
  const head = new Table(plain());
  head.push({ run: r.id }, { status: r.status }, { model: r.model }, { dataset: r.dataset }, { measure: r.measure ?? '—' }, { backend: r.backend ?? '—' }, { created: r.createdAt });
  if (r.lease) head.push({ trainer: `${r.lease.holder} (lease until ${r.lease.expiresAt}, token ${r.lease.token})` });
  if (r.status === 'queued') head.push({ queued: `#${queuePositions(await store.listRuns({ status: 'queued' })).get(r.id)} since ${r.queuedAt}` });
  if (r.error) head.push({ error: r.error.message });
  const epochs = new Table({ head: ['epoch', 'phase', 'lr', 'train loss', 'train acc', 'test loss', 'test acc', 'seconds'], ...plain() });
  r.stats.forEach((s, i) => epochs.push([i, s.phase, s.lr, s.trainLoss.toFixed(4), pct(s.trainAcc), s.testLoss?.toFixed(4) ?? '—', pct(s.testAcc), s.seconds.toFixed(1)]));
  const rounds = new Table({ head: ['round', 'pruned', 'acc. before fine-tune', 'channels per layer'], ...plain(), colWidths: [7, 9, 22, 60], wordWrap: true });
  for (const rd of r.rounds) rounds.push([rd.round, pct(rd.prunedFraction), pct(rd.accuracyBeforeFineTune), rd.remainingChannels.map((l) => l.remaining).join(' ')]);
  const cps = (await store.listCheckpoints(id)).map((c) => `${c.name} (${(c.size / 1e6).toFixed(2)} MB)`).join(', ');
  const spec = JSON.stringify(r.spec);
  return [head.toString(), `spec: ${spec}`, 'epochs:', epochs.toString(), 'rounds:', rounds.toString(), `checkpoints: ${cps || '—'}`, r.summary ? `summary: ${JSON.stringify(r.summary)}` : ''].join('\n');
}

export async function compareRuns(store: RunStore, ids: string[]): Promise<string> {
  const runs = await Promise.all(ids.map((id) => mustGet(store, id)));
  const t = new Table({ head: ['', ...runs.map((r) => r.id)], ...plain() });
  const row = (name: string, f: (r: RunRecord) => string) => t.push([name, ...runs.map(f)]);
  row('model', (r) => r.model);
  row('measure', (r) => r.measure ?? '—');
  row('pruned', (r) => (r.pruneRatio ? `${(r.pruneRatio * 100).toFixed(0)}%` : '—'));
  row('seed', (r) => String(r.seed ?? '—'));
  row('status', (r) => r.status);
  row('epochs', (r) => String(r.stats.length));
  row('acc. before pruning', (r) => pct(r.summary?.accuracyBeforePruning));
  row('acc. right after', (r) => pct(r.summary?.accuracyAfterPruning));
  row('best test acc.', (r) => pct(r.summary?.bestTestAccuracy));
  row('parameters', (r) => `${num(r.summary?.parametersBefore)} → ${num(r.summary?.parametersAfter)}`);
  row('FLOPs', (r) => `${num(r.summary?.flopsBefore)} → ${num(r.summary?.flopsAfter)}`);
  row('compression', (r) => (typeof r.summary?.compressionRatio === 'number' ? `${r.summary.compressionRatio.toFixed(3)}×` : '—'));
  row('wall time', (r) => (typeof r.summary?.wallSeconds === 'number' ? `${r.summary.wallSeconds.toFixed(0)} s` : '—'));
  return t.toString();
}

export async function loadRuns(store: RunStore, ids: string[]): Promise<RunRecord[]> {
  return Promise.all(ids.map((id) => mustGet(store, id)));
}
