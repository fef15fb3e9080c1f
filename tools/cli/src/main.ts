// flowprune: the command line of the pruning services. Each command lives in commands/<name>.ts.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command } from 'commander';
import { redactSecrets } from '@flowprune/common';
import { addTlsOptions, tlsEnv, tlsHint, tlsSettingsFromEnv, tlsSettingsFromFlags, type TlsFlags } from '@flowprune/grpc';
import { registerBench } from './commands/bench.js';
import { registerData } from './commands/data.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerImport } from './commands/import.js';
import { registerFlow } from './commands/flow.js';
import { registerImportance } from './commands/importance.js';
import { registerExport, registerLatency } from './commands/onnx.js';
import { registerPrune } from './commands/prune.js';
import { registerRun } from './commands/run.js';
import { registerAnalyze, registerReport, registerRuns } from './commands/runs.js';
import { registerTrace } from './commands/trace.js';

const program = addTlsOptions(new Command('flowprune').description('Gradient-flow pruning research on gRPC services (Lubana & Dick, ICLR 2021)'));
// --tls-* go to FLOWPRUNE_TLS_*: the CLI's clients read them (makeClient), and so do the services of a
// local stack, which inherit the environment — one setting for the whole stack.
program.hook('preAction', () => void Object.assign(process.env, tlsEnv(tlsSettingsFromFlags(program.opts<TlsFlags>()))));
for (const register of [registerDemo, registerBench, registerPrune, registerRun, registerRuns, registerReport, registerEval, registerData, registerTrace, registerImportance, registerExport, registerLatency, registerImport, registerFlow, registerAnalyze]) register(program);
try {
  await program.parseAsync();
} catch (e) {
  // Errors are for people: the message names the flag or file and the fix; the stack only on demand.
  const err = e as Error & { details?: string };
  // Messages may quote a store URI: never with its password.
  console.error(`flowprune: ${redactSecrets(err.details ?? err.message)}`);
  const tls = tlsSettingsFromEnv();
  const hint = tlsHint(e, { tls: Boolean(tls.ca || tls.cert), clientCert: Boolean(tls.cert) });
  if (hint) console.error(`flowprune: hint: ${hint}`);
  if (process.env.FLOWPRUNE_DEBUG) console.error(redactSecrets(err.stack ?? ''));
  process.exitCode = 1;
}
