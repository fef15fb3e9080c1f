// flowprune: the command line of the pruning services. Each command lives in commands/<name>.ts.
import { Command } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerDemo } from './commands/demo.js';
import { registerPrune } from './commands/prune.js';

const program = new Command('flowprune').description('Gradient-flow pruning research on gRPC services (Lubana & Dick, ICLR 2021)');
for (const register of [registerDemo, registerBench, registerPrune]) register(program);
try {
  await program.parseAsync();
} catch (e) {
  // Errors are for people: the message names the flag or file and the fix; the stack only on demand.
  const err = e as Error & { details?: string };
  console.error(`flowprune: ${err.details ?? err.message}`);
  if (process.env.FLOWPRUNE_DEBUG) console.error(err.stack);
  process.exitCode = 1;
}
