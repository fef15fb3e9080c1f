// flowprune: the command line of the pruning services. Each command lives in commands/<name>.ts.
import { Command } from 'commander';
import { registerBench } from './commands/bench.js';
import { registerDemo } from './commands/demo.js';

const program = new Command('flowprune').description('Gradient-flow pruning research on gRPC services (Lubana & Dick, ICLR 2021)');
for (const register of [registerDemo, registerBench]) register(program);
await program.parseAsync();
