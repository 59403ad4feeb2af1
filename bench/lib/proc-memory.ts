import { readFileSync } from 'node:fs';

/** Resident memory of a live process from /proc/<pid>/status (Linux), in MiB. */
export interface ProcessMemory {
  /** VmRSS: resident now. */
  readonly rssMb: number;
  /** VmHWM: the most that was ever resident (the kernel's own peak, no sampling gaps). */
  readonly peakRssMb: number;
}

export function readProcessMemory(pid: number): ProcessMemory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  const rss = kib('VmRSS');
  const peak = kib('VmHWM');
  if (!Number.isFinite(rss) || !Number.isFinite(peak)) return undefined;
  return { rssMb: rss / 1024, peakRssMb: peak / 1024 };
}

/**
 * Samples a process's RSS every `intervalMs` so a phase can report its own peak (VmHWM alone
 * covers the whole life of the process, start-up included).
 */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.peak = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  /** Stops sampling; returns the peak VmRSS seen and the process's VmHWM, in MiB. */
  stop(): { sampledPeakMb: number; processPeakMb: number } {
    clearInterval(this.timer);
    const last = this.sample();
    return { sampledPeakMb: this.peak, processPeakMb: last?.peakRssMb ?? this.peak };
  }

  private sample(): ProcessMemory | undefined {
    const memory = readProcessMemory(this.pid);
    if (memory) this.peak = Math.max(this.peak, memory.rssMb);
    return memory;
  }
}
