// flowprune: the command line of the pruning services. Each command lives in commands/<name>.ts.
import './telemetry.js'; // first: OpenTelemetry patches gRPC before anything loads it
import { Command } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerData } from './commands/data.js';
import { registerDemo } from './commands/demo.js';
import { registerEval } from './commands/eval.js';
import { registerImportance } from './commands/importance.js';
import { registerPrune } from './commands/prune.js';
import { registerRun } from './commands/run.js';
import { registerReport, registerRuns } from './commands/runs.js';
import { registerTrace } from './commands/trace.js';

const program = new Command('flowprune').description('Gradient-flow pruning research on gRPC services (Lubana & Dick, ICLR 2021)');
for (const register of [registerDemo, registerBench, registerPrune, registerRun, registerRuns, registerReport, registerEval, registerData, registerTrace, registerImportance]) register(program);
try {
  await program.parseAsync();
} catch (e) {
  // Errors are for people: the message names the flag or file and the fix; the stack only on demand.
  const err = e as Error & { details?: string };
  console.error(`flowprune: ${err.details ?? err.message}`);
  if (process.env.FLOWPRUNE_DEBUG) console.error(err.stack);
  process.exitCode = 1;
}
