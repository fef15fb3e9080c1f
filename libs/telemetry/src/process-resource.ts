// The process resource without the command line. OpenTelemetry's process detector records every
// argument (process.command_args) on every span; flags carry secrets (a --store URI with a password,
// a key file's path), so only the executable, the entry script and the runtime are kept.
import type { ResourceDetector } from '@opentelemetry/resources';

/** Attributes of the process detector that may hold a secret. */
export const DROPPED_PROCESS_ATTRIBUTES = ['process.command_args', 'process.command_line'] as const;

export function withoutCommandLine(detector: ResourceDetector): ResourceDetector {
  return {
    detect: (config) => {
      const detected = detector.detect(config);
      const attributes = { ...detected.attributes };
      for (const key of DROPPED_PROCESS_ATTRIBUTES) delete attributes[key];
      return { ...detected, attributes };
    },
  };
}
