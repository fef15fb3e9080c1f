// Gradient statistics are the expensive part of an estimate and several measures share them
// (loss_based, tfo, fisher, ... all reduce the same ḡ and s̄). A cache lives for one (model,
// data, θ₀) and hands every measure the statistics for its own parameters, and the float64
// decisions of every image it has seen (computed once per image).
import { Float64Decisions } from '@flowprune/tensor';

export class StatisticsCache {
  private readonly entries = new Map<string, Promise<unknown>>();
  private exact?: Float64Decisions;

  /** The float64 ReLU / max-pool decisions of this cache's model, per image. */
  get decisions(): Float64Decisions {
    this.exact ??= new Float64Decisions();
    return this.exact;
  }

  /** The value for `key`, computed once; a failed computation is forgotten so it can be retried. */
  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let p = this.entries.get(key) as Promise<T> | undefined;
    if (!p) {
      p = compute();
      this.entries.set(key, p);
      p.catch(() => this.entries.delete(key));
    }
    return p;
  }

  clear(): void {
    this.entries.clear();
    this.exact = undefined;
  }
}
