// Download progress for `flowprune data fetch`: a cli-progress bar on a terminal, a line per 10 %
// otherwise (logs, CI), so the output stays readable in both.
import cliProgress from 'cli-progress';
import type { DownloadProgress } from '@flowprune/data';

export interface ProgressReporter {
  update(p: DownloadProgress): void;
  stop(): void;
}

const mb = (n: number): string => (n / 2 ** 20).toFixed(1);

export function downloadBar(out: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: out, hideCursor: true, format: ' download |{bar}| {percentage}% {got}/{all} MB {speed}', barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const t0 = performance.now();
    let first = 0;
    return {
      update: (p) => {
        const total = p.total ?? p.received;
        if (!started) {
          started = true;
          first = p.received;
          bar.start(total, p.received, { got: mb(p.received), all: mb(total), speed: '' });
        }
        const s = (performance.now() - t0) / 1000;
        bar.setTotal(total);
        bar.update(p.received, { got: mb(p.received), all: mb(total), speed: s > 0.5 ? `${mb((p.received - first) / s)} MB/s` : '' });
      },
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update: (p) => {
      if (!p.total) return;
      const tenth = Math.floor((10 * p.received) / p.total);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      out.write(`download ${tenth * 10}% (${mb(p.received)}/${mb(p.total)} MB)\n`);
    },
    stop: () => undefined,
  };
}
