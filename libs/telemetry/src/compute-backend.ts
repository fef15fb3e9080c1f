// The compute backend as a resource attribute. A process picks its backend after telemetry has
// started (the SDK must start before gRPC loads), so the attribute is a promise that the process
// settles once it knows — or that settles to `none` at its first span, since every service chooses
// its backend before it serves, and a process that has not by then does not compute.
let settle: ((name: string) => void) | undefined;
let settledName: string | undefined;

export const computeBackend: Promise<string> = new Promise<string>((resolve) => {
  settle = resolve;
});

/** Records the process's compute backend (first call wins). */
export function setComputeBackend(name: string): void {
  if (settledName !== undefined) return;
  settledName = name;
  settle?.(name);
}

/** Settles the attribute to `none` unless a backend was set. */
export function settleComputeBackend(): void {
  setComputeBackend('none');
}

export function computeBackendName(): string | undefined {
  return settledName;
}
