import type { Command } from 'commander';
import { formatTraceReport, traceReport } from '../trace.js';
import { storeOption } from '../store-option.js';

export function registerTrace(program: Command): void {
  program
    .command('trace <run>')
    .description("where a run's time went, from its trace file: by stage, by service, the critical path, time waiting for data")
    .addOption(storeOption('run store (the trace file is <store>/<run>/trace.jsonl; the run record gives the wall time)'))
    .option('--trace-dir <dir>', 'where the trace files are, when not in the store directory (default: FLOWPRUNE_TRACE_DIR)')
    .option('--json', 'print the summary as JSON', false)
    .action(async (runId: string, o: { store: string; traceDir?: string; json: boolean }) => {
      const report = await traceReport(runId, o);
      console.log(o.json ? JSON.stringify(report, null, 2) : formatTraceReport(report));
    });
}
