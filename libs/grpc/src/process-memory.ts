// Resident memory of a process by pid, from Linux's /proc (load tests watch a service child).
import { readFileSync } from 'node:fs';

/** Current (VmRSS) and peak (VmHWM) resident set size in bytes; undefined where /proc is missing. */
export function processMemory(pid: number): { rss: number; peakRss: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return undefined;
  }
}
