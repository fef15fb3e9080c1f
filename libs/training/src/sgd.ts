import { fusedSgdStep, tf } from '@flowprune/tensor';

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
    const slots = [...grads].map(([name, grad]) => {
      const param = params.get(name);
      if (!param) throw new Error(`no parameter ${name} for its gradient`);
      return { name, param, grad, buffer: this.buffers.get(name) };
    });
    // The native backend updates every parameter and buffer in place in one call.
    const fused = fusedSgdStep(slots, this.options);
    if (fused) {
      slots.forEach((s, i) => {
        const buf = fused[i];
        if (buf) this.buffers.set(s.name, buf);
      });
      return;
    }
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
