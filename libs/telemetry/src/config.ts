// Where a process sends its telemetry, from the standard OTEL_* variables plus flowprune's own.
import { resolve } from 'node:path';

export interface TelemetryConfig {
  /** False when OTEL_SDK_DISABLED=true (the OpenTelemetry switch); the API is then a no-op. */
  enabled: boolean;
  /** `service.name`: OTEL_SERVICE_NAME, else the name the process gives. */
  serviceName: string;
  /** OTLP endpoint: when set, spans and metrics go there instead of run files. */
  otlpEndpoint?: string;
  /** Root of the per-run trace files (`<traceDir>/<run-id>/trace.jsonl`), absolute. */
  traceDir: string;
}

const isUri = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** The value of `--flag value` or `--flag=value` in argv, if present. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i].startsWith(`${flag}=`)) return argv[i].slice(flag.length + 1);
  }
  return undefined;
}

/**
 * Trace files go beside the run records: FLOWPRUNE_TRACE_DIR, else the directory the process's
 * `--store` / `--runs-dir` names (a MongoDB URI is not a directory), else the store variables the
 * services read, else the process's own default store (`runs` for the services).
 */
export function traceDirectory(env: NodeJS.ProcessEnv, argv: readonly string[], cwd: string, fallback = 'runs'): string {
  const candidates = [
    env.FLOWPRUNE_TRACE_DIR,
    flagValue(argv, '--store'),
    flagValue(argv, '--runs-dir'),
    env.FLOWPRUNE_STORE,
    env.FLOWPRUNE_RUNS_DIR,
  ];
  const dir = candidates.find((c): c is string => Boolean(c) && !isUri(c as string)) ?? fallback;
  return resolve(cwd, dir);
}

export function telemetryConfig(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv,
  cwd: string = process.cwd(),
  defaultTraceDir = 'runs',
): TelemetryConfig {
  return {
    enabled: (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() !== 'true',
    serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined,
    traceDir: traceDirectory(env, argv, cwd, defaultTraceDir),
  };
}
