// Callers often ask for several measures of the same model on the same inline batches (the CLI
// does, one Estimate per measure). The gradient statistics and float64 decisions of the last such
// request are kept, keyed by a digest of the model and batches (θ₀ enters only the final
// reduction), so the next measure reuses them.
import { createHash } from 'node:crypto';
import { StatisticsCache } from '@flowprune/importance';
import type { EstimateRequest } from '@flowprune/proto';

export class EstimateCache {
  private last?: { key: string; cache: StatisticsCache };

  /** The cache for this request's model and inline batches (a fresh one when either differs). */
  for(req: EstimateRequest, modelBytes: Uint8Array): StatisticsCache {
    const h = createHash('sha256');
    const part = (b: Uint8Array) => h.update(String(b.byteLength)).update(b);
    part(modelBytes);
    for (const b of req.batches) {
      part(b.pixels);
      h.update(JSON.stringify([b.count, b.height, b.width, b.channels, b.labels]));
    }
    const key = h.digest('hex');
    if (this.last?.key !== key) this.last = { key, cache: new StatisticsCache() };
    return this.last.cache;
  }
}
