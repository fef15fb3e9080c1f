import { tf } from '@flowprune/tensor';

export interface SgdOptions {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * PyTorch's SGD (dampening 0, not Nesterov), weight decay on every parameter:
 * buf ← μ·buf + (∇L + wd·θ) (buf = ∇L + wd·θ on the first step); θ ← θ − lr·buf.
 */
export class Sgd {
  /** Momentum buffers by parameter name (tfjs layout, like the parameters). */
  readonly buffers = new Map<string, tf.Tensor>();

  constructor(public options: SgdOptions) {}

  step(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void {
    const { lr, momentum, weightDecay } = this.options;
    for (const [name, g] of grads) {
      const v = params.get(name);
      if (!v) throw new Error(`no parameter ${name} for its gradient`);
      const old = this.buffers.get(name);
      const buf = tf.tidy(() => {
        const d = weightDecay ? tf.add(g, tf.mul(v, weightDecay)) : g;
        return momentum ? (old ? tf.add(tf.mul(old, momentum), d) : tf.clone(d)) : tf.clone(d);
      });
      tf.tidy(() => v.assign(tf.sub(v, tf.mul(buf, lr))));
      old?.dispose();
      if (momentum) this.buffers.set(name, buf);
      else buf.dispose();
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
