// A synchronous scope in which libs/tensor's ops use only primitives whose gradients are
// themselves differentiable, so a nested tf.grad (a Hessian-vector product) can run through a
// backward pass. Outside it the fast hand-written gradients are used (they are first-order only:
// e.g. the eval-mode BatchNorm gradient calls FusedBatchNorm without a scale, which tfjs-core's
// FusedBatchNorm gradient cannot save for a second pass).
import { SyncScope } from './sync-scope.js';

const scope = new SyncScope('withTwiceDifferentiableOps');

/** True while inside withTwiceDifferentiableOps. */
export function inTwiceDifferentiableScope(): boolean {
  return scope.active;
}

/** Runs fn (synchronously) with twice-differentiable op variants. */
export function withTwiceDifferentiableOps<T>(fn: () => T): T {
  return scope.run(fn);
}
