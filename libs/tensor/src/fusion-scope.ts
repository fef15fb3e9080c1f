// A synchronous scope in which libs/tensor's ops call one kernel per primitive step instead of
// the backend's fused kernels (BatchNorm + residual + ReLU in one): code that watches individual
// kernels — float64 decisions records and replays every ReLU — needs to see each of them.
import { SyncScope } from './sync-scope.js';

const scope = new SyncScope('withoutFusedKernels');

/** False while inside withoutFusedKernels. */
export function fusedKernelsAllowed(): boolean {
  return !scope.active;
}

/** Runs fn (synchronously) with unfused op variants. */
export function withoutFusedKernels<T>(fn: () => T): T {
  return scope.run(fn);
}
