import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * Long-running commands let V8's old generation grow at most 50 % past what the last full GC
 * kept alive: V8's own factor lets garbage pile up to several times the live heap under load,
 * which sets the peak memory (docs/performance.md). V8 reads the flag each time it sets the next
 * limit, so setting it at start-up takes effect. An explicit `node --heap-growing-percent=N` wins.
 */
export function boundHeapGrowth(): void {
  if (process.execArgv.some((arg) => arg.startsWith(FLAG))) return;
  setFlagsFromString(`${FLAG}=50`);
}
