import { round } from './stats.js';

/** Named CPU clocks in ms, e.g. `{ app: () => readProcessCpuMs(pid) }`. */
export type CpuClocks = Record<string, () => number>;

/**
 * Reads every clock now; the returned function reads them again and gives each one's CPU ms per
 * item (email) in between. On a 2-core machine that all processes share, CPU per email says
 * where a throughput gap comes from better than the throughput does.
 */
export function startCpuMeter(clocks: CpuClocks): (items: number) => Record<string, number> {
  const before = Object.fromEntries(Object.entries(clocks).map(([name, read]) => [name, read()]));
  return (items) =>
    Object.fromEntries(
      Object.entries(clocks).map(([name, read]) => [
        name,
        items > 0 ? round((read() - (before[name] ?? 0)) / items, 3) : 0,
      ]),
    );
}
