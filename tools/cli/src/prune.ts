// `flowprune prune`: load weights and an importance file, take one pruning step as the spec's first
// round does, write the pruned checkpoint, its config and a report.
import { readFileSync, writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import { GRAPH_ARCH, Model, parseArch } from '@flowprune/models';
import { GROUP_AGGREGATES, nextPCumulative, originalWidths, POLICY_NAMES, pruneStep, stateChecksums, type GroupAggregate, type PolicyName } from '@flowprune/pruning';
import { initBackend } from '@flowprune/tensor';

export interface PruneCommandOptions {
  arch?: string;
  numClasses?: number;
  weights: string;
  importance: string;
  ratio: number;
  out: string;
  measure?: string;
  policy?: string;
  aggregate?: string;
  maxRatio?: number;
  roundTo?: number;
}

class CliError extends Error {}

/** `{"m": [[...]]}` or `{"measures": {"m": [[...]]}}`; one measure, or the one named. */
function readImportanceFile(path: string, measure?: string): { measure: string; scores: number[][] } {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`--importance ${path}: ${(e as Error).message}`);
  }
  const root = (doc as { measures?: unknown }).measures ?? doc;
  if (typeof root !== 'object' || root === null) throw new CliError(`--importance ${path}: expected an object {"<measure>": [[...], ...]}`);
  const entries = Object.entries(root as Record<string, unknown>).filter(([, v]) => Array.isArray(v));
  const chosen = measure ? entries.find(([k]) => k === measure) : entries.length === 1 ? entries[0] : undefined;
  if (!chosen)
    throw new CliError(
      measure
        ? `--importance ${path} has no measure "${measure}" (it has ${entries.map(([k]) => k).join(', ')})`
        : `--importance ${path} holds ${entries.length} measures (${entries.map(([k]) => k).join(', ')}); pick one with --measure`,
    );
  return { measure: chosen[0], scores: chosen[1] as number[][] };
}

export function reportPath(out: string): string {
  return `${out.replace(/\.safetensors$/, '')}.prune.json`;
}

export async function runPruneCommand(o: PruneCommandOptions): Promise<void> {
  await initBackend({ log: () => undefined });
  const arch = o.arch === undefined ? undefined : parseArch(o.arch);
  if (!(o.ratio >= 0 && o.ratio < 1)) throw new CliError(`--ratio must be in [0, 1), got ${o.ratio}`);
  const policy = (o.policy ?? 'paper') as PolicyName;
  if (!POLICY_NAMES.includes(policy)) throw new CliError(`--policy must be one of ${POLICY_NAMES.join(', ')}, got ${o.policy}`);
  const aggregate = (o.aggregate ?? 'sum') as GroupAggregate;
  if (!GROUP_AGGREGATES.includes(aggregate)) throw new CliError(`--aggregate must be one of ${GROUP_AGGREGATES.join(', ')}, got ${o.aggregate}`);
  const { measure, scores } = readImportanceFile(o.importance, o.measure);
  const model = Model.fromSafeTensors(new Uint8Array(readFileSync(o.weights)), { arch, numClasses: o.numClasses }, o.weights);
  if (!arch && model.net.arch !== GRAPH_ARCH) throw new CliError(`--arch is required: ${o.weights} carries no graph (it is not an imported model)`);
  const pCumulative = nextPCumulative(100, o.ratio);
  const res = pruneStep(model, scores, { ratio: o.ratio, pCumulative, originalWidths: originalWidths(model.net), policy, generic: { aggregate, maxRatio: o.maxRatio, roundTo: o.roundTo } });

  const extra: Record<string, string> = { measure, ratio: String(o.ratio), p_cumulative: String(pCumulative) };
  if (res.plan.effectiveConfig) extra.effective_config = JSON.stringify(res.plan.effectiveConfig);
  writeFileSync(o.out, res.model.toSafeTensors(extra));
  const report = {
    arch: model.net.arch,
    num_classes: model.net.numClasses,
    measure,
    policy,
    ratio: o.ratio,
    p_cumulative: pCumulative,
    effective_ratio: res.effectiveRatio,
    n_entries: res.selection.nEntries,
    n_prune: res.selection.nPrune,
    boundary_tie: res.selection.boundaryTie,
    prune_counts: res.selection.counts,
    remaining: res.remaining,
    survivors: res.selection.survivors,
    pruned_config: res.plan.config,
    ...(res.plan.effectiveConfig ? { effective_config: res.plan.effectiveConfig } : {}),
    ...(res.plan.masksZeroed ? { masks_zeroed: res.plan.masksZeroed } : {}),
    pruned_fraction: res.prunedFraction,
    pruned_checksums: stateChecksums(res.model.stateDict()),
  };
  writeFileSync(reportPath(o.out), `${JSON.stringify(report, null, 1)}\n`);

  const table = new Table({ head: ['layer', 'conv', 'before', 'after', 'removed'], style: process.stdout.isTTY ? {} : { head: [], border: [] } });
  model.net.filterLayers.forEach((l, i) => table.push([i, l.conv, l.outChannels, res.remaining[i], res.selection.counts[i]]));
  console.log(table.toString());
  console.log(
    `${model.net.arch}: ${measure}, ratio ${o.ratio} (effective ${res.effectiveRatio}), p_cumulative ${pCumulative}: pruned ${res.selection.nPrune} of ${res.selection.nEntries} ranking entries, ${(100 * res.prunedFraction).toFixed(2)} % of channels`,
  );
  if (model.net.arch !== GRAPH_ARCH) console.log(`config: ${JSON.stringify(res.plan.config)}`);
  console.log(`wrote ${o.out} and ${reportPath(o.out)}`);
  res.model.dispose();
  model.dispose();
}
