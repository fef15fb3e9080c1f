// @flowprune/bench: the speed suites of `flowprune bench` / `npm run bench`. The CLI's `bench` command
// parses the flags and calls runBench; the suites' worker scripts (bench-*-worker.ts) and the PyTorch
// references (tools/bench/*.py) run as child processes. Only tools/cli may import this project, and it
// imports no tool (eslint.config.mjs, tag type:bench).
export { runBench, type BenchOptions } from './bench.js';
