// A nestable flag that is set while a synchronous function runs: libs/tensor's ops read such flags
// to pick op variants (twice-differentiable ones, unfused ones) without threading options through
// every model's forward pass. Async work would leave the scope before it ends, so it is refused.
export class SyncScope {
  private depth = 0;

  constructor(private readonly name: string) {}

  get active(): boolean {
    return this.depth > 0;
  }

  run<T>(fn: () => T): T {
    this.depth++;
    try {
      const out = fn();
      if (out instanceof Promise) throw new Error(`${this.name}: fn must be synchronous`);
      return out;
    } finally {
      this.depth--;
    }
  }
}
