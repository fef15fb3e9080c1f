// `flowprune bench --suites tracing`: what tracing costs. The same small demo (four service
// processes, one prune+train run) runs with OpenTelemetry off (OTEL_SDK_DISABLED=true) and on (spans
// to the run's trace file, the default), alternately, each in its own CLI process; the overhead is
// the difference of the mean times. Wall time is what a user waits, and what the goal (under 5 %)
// is judged on; CPU time (user + system of the demo and its four services) is the work tracing
// adds — the steadier figure when other jobs share the machine and stretch wall times.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSyntheticCifar10 } from '@flowprune/data';
import { TRACE_FILE } from '@flowprune/telemetry';
import { WORKSPACE } from './paths.js';

export interface TracingBenchOptions {
  /** Runs of each mode (off, on), interleaved. */
  reps: number;
  arch: string;
  trainPerClass: number;
  testPerClass: number;
  epochs: number;
  /** Seed of the synthetic dataset and of the run. */
  seed: number;
}

export const TRACING_BENCH_DEFAULTS: TracingBenchOptions = { reps: 1, arch: 'vgg13', trainPerClass: 20, testPerClass: 10, epochs: 2, seed: 0 };
export const TRACING_GOAL = 0.05;

interface Timing {
  /** The whole demo process: service start-up, the run, shutdown. */
  processSeconds: number;
  /** CPU seconds of the demo process and its services. */
  cpuSeconds: number;
  /** The run itself (its record's wallSeconds). */
  runSeconds: number;
}

async function demoOnce(o: TracingBenchOptions, tracing: boolean, dataDir: string): Promise<Timing> {
  const runsDir = mkdtempSync(join(tmpdir(), `flowprune-bench-tracing-${tracing ? 'on' : 'off'}-`));
  try {
    // OpenMP threads (native backend) that spin while idle would make CPU time a measure of scheduling noise.
    const env: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'PASSIVE', ...process.env, OTEL_SDK_DISABLED: tracing ? 'false' : 'true' };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_EXPORTER_OTLP') || k === 'FLOWPRUNE_TRACE_DIR') delete env[k];
    const args = [
      join(WORKSPACE, 'tools/cli/bin/flowprune.mjs'),
      'demo',
      '--dataset', 'synthetic',
      '--arch', o.arch,
      '--train-per-class', String(o.trainPerClass),
      '--test-per-class', String(o.testPerClass),
      '--epochs', String(o.epochs),
      '--seed', String(o.seed),
      '--data-dir', dataDir,
      '--runs-dir', runsDir,
    ];
    const t0 = performance.now();
    // bash's `times` prints the CPU time of the waited-for descendants: the CLI and its services.
    const script = '"$0" "$@" 2>/dev/null; s=$?; times >&2; exit $s';
    const child = spawn('bash', ['-c', script, process.execPath, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const processSeconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`the demo (tracing ${tracing ? 'on' : 'off'}) exited with code ${code}`);
    const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stderr);
    const cpuSeconds = m ? 60 * Number(m[1]) + Number(m[2]) + 60 * Number(m[3]) + Number(m[4]) : NaN;
    const runId = readdirSync(runsDir).find((d) => /^\d{8}-/.test(d))!;
    const record = JSON.parse(readFileSync(join(runsDir, runId, 'run.json'), 'utf8')) as { summary: { wallSeconds: number } };
    const traced = readdirSync(join(runsDir, runId)).includes(TRACE_FILE);
    if (traced !== tracing) throw new Error(`tracing ${tracing ? 'on' : 'off'} but the run has ${traced ? 'a' : 'no'} trace file`);
    return { processSeconds, cpuSeconds, runSeconds: record.summary.wallSeconds };
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (on: number, off: number) => `${((100 * (on - off)) / off).toFixed(1)} %`;

export async function tracingOverhead(opts: Partial<TracingBenchOptions> = {}): Promise<void> {
  const o = { ...TRACING_BENCH_DEFAULTS, ...opts };
  console.log(
    `\n== tracing overhead: demo ${o.arch}, ${o.trainPerClass * 10} train / ${o.testPerClass * 10} test images, ${o.epochs} epochs, ` +
      `OTEL_SDK_DISABLED=true vs spans to the run file, ${o.reps} run(s) each, interleaved ==`,
  );
  // Built once, untimed, so neither mode pays for it; the demo finds it in --data-dir.
  const dataDir = mkdtempSync(join(tmpdir(), 'flowprune-bench-tracing-data-'));
  const off: Timing[] = [];
  const on: Timing[] = [];
  try {
    ensureSyntheticCifar10({ dataDir, trainPerClass: o.trainPerClass, testPerClass: o.testPerClass, seed: o.seed });
    for (let r = 0; r < o.reps; r++) {
      off.push(await demoOnce(o, false, dataDir));
      on.push(await demoOnce(o, true, dataDir));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const [pOff, pOn] = [mean(off.map((t) => t.processSeconds)), mean(on.map((t) => t.processSeconds))];
  const [rOff, rOn] = [mean(off.map((t) => t.runSeconds)), mean(on.map((t) => t.runSeconds))];
  const [cOff, cOn] = [mean(off.map((t) => t.cpuSeconds)), mean(on.map((t) => t.cpuSeconds))];
  console.log(`tracing overhead: ${pct(pOn, pOff)} (off ${pOff.toFixed(1)} s, on ${pOn.toFixed(1)} s) — wall time of the whole demo, service start-up included`);
  console.log(`  run loop only:  ${pct(rOn, rOff)} (off ${rOff.toFixed(1)} s, on ${rOn.toFixed(1)} s) — the runs' wall time`);
  console.log(`  CPU time:       ${pct(cOn, cOff)} (off ${cOff.toFixed(1)} s, on ${cOn.toFixed(1)} s) — the demo and its four services`);
  const load = loadavg()[0];
  console.log(
    `goal < ${TRACING_GOAL * 100} %: ${(pOn - pOff) / pOff < TRACING_GOAL ? 'met' : 'NOT met'}` +
      (load > cpus().length * 0.75 ? `; load average ${load.toFixed(1)} on ${cpus().length} cores: other jobs make wall times unreliable now` : ''),
  );
}
