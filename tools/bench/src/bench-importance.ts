// The `importance` bench suite: the time of one whole estimate of each measure on each
// architecture, on every available flowprune backend and on PyTorch CPU (same machine, same
// thread count, same synthetic data), one architecture at a time, printed as ratios:
//   vgg13 loss_based native 1.92 s | pytorch 2.10 s | 1.09x
import type { ArchName } from '@flowprune/models';
import { availableBackends, benchThreads } from './bench-backends.js';
import type { ImportanceRecord } from './bench-importance-worker.js';
import { findTorchPython, runTorchScript } from './bench-pytorch.js';
import { runBenchWorker } from './worker-process.js';

export interface ImportanceTimesOptions {
  archs: ArchName[];
  batchSize: number;
  measures: string[];
  impSamples: number;
  /** flowprune backends to measure; default: every one that loads here. */
  backends?: string[];
}

interface TorchImportanceRecord {
  arch: string;
  measure: string;
  seconds: number;
  samples: number;
  threads: number;
}

const runWorker = (backend: string, arch: ArchName, o: ImportanceTimesOptions) =>
  runBenchWorker<ImportanceRecord>('bench-importance-worker.ts', [arch, o.measures.join(','), String(o.impSamples), String(o.batchSize)], backend);

export function importanceTimes(o: ImportanceTimesOptions): void {
  const backends = o.backends ?? availableBackends();
  const threads = benchThreads();
  const torch = findTorchPython();
  const torchNote = 'reason' in torch ? `PyTorch unavailable: ${torch.reason}` : `PyTorch ${torch.version} CPU (${torch.python}), ${threads} thread(s)`;
  console.log(`\n== importance estimation: flowprune (${backends.join(', ')}) vs PyTorch, imp_samples ${o.impSamples}, batch ${o.batchSize}, one whole estimate on a fresh model ==`);
  console.log(torchNote);
  for (const arch of o.archs) {
    const ours = new Map(backends.map((b) => [b, runWorker(b, arch, o)] as const));
    let theirs: TorchImportanceRecord[] | { error: string };
    try {
      theirs =
        'reason' in torch
          ? { error: torch.reason }
          : runTorchScript<TorchImportanceRecord>(torch, 'torch_importance.py', [
              ...['--archs', arch, '--measures', o.measures.join(','), '--imp-samples', String(o.impSamples)],
              ...['--batch-size', String(o.batchSize), '--threads', String(threads)],
            ]);
    } catch (e) {
      theirs = { error: (e as Error).message };
    }
    for (const measure of o.measures) {
      const ref = Array.isArray(theirs) ? theirs.find((t) => t.measure === measure) : undefined;
      for (const [backend, recs] of ours) {
        const head = `${arch} ${measure} ${backend}`;
        if (!Array.isArray(recs)) {
          console.log(`${head} failed: ${recs.error}`);
          continue;
        }
        const mine = recs.find((r) => r.measure === measure);
        if (!mine) continue;
        const label = `${head} ${mine.seconds.toFixed(2)} s (${mine.samples} images, ${mine.threads} thread${mine.threads === 1 ? '' : 's'})`;
        if (ref) console.log(`${label} | pytorch ${ref.seconds.toFixed(2)} s | ${(ref.seconds / mine.seconds).toFixed(2)}x`);
        else console.log(`${label} | pytorch n/a (${Array.isArray(theirs) ? 'no record' : theirs.error})`);
      }
    }
  }
}
