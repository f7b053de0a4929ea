// CPU time and resident memory of a server process, from /proc (Linux): utime+stime from
// /proc/<pid>/stat (clock ticks, 100 per second on every Linux the suite targets), VmRSS and VmHWM
// from /proc/<pid>/status. A sampler reads RSS every few milliseconds during a measurement, because
// VmHWM is the peak since the process started and cannot always be reset (clear_refs needs rights
// the suite may not have).
import fs from 'node:fs/promises';

const CLOCK_TICKS_PER_SECOND = 100;
const SAMPLE_INTERVAL_MS = 50;

/** User + system CPU seconds the process has used so far (0 if it is gone). */
export async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export interface MemoryStatus {
  rssBytes: number;
  /** Peak RSS since start (or since the last clear_refs reset). */
  hwmBytes: number;
}

export async function memoryStatus(pid: number): Promise<MemoryStatus> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return { rssBytes: 0, hwmBytes: 0 };
  }
}

/** Resets the process's VmHWM to its current RSS; false where not permitted. */
export async function resetPeakRss(pid: number): Promise<boolean> {
  try {
    await fs.writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export interface ProcessUsage {
  cpuSeconds: number;
  peakRssBytes: number;
}

/**
 * Starts measuring `pid`: stop() returns the CPU seconds used since start and the peak RSS seen
 * (the sampled maximum, and VmHWM too when it could be reset at start).
 */
export async function startSampling(pid: number): Promise<{ stop(): Promise<ProcessUsage> }> {
  const hwmReset = await resetPeakRss(pid);
  const cpu0 = await cpuSeconds(pid);
  let peak = (await memoryStatus(pid)).rssBytes;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling) return;
    sampling = true;
    void memoryStatus(pid).then((m) => {
      peak = Math.max(peak, m.rssBytes);
      sampling = false;
    });
  }, SAMPLE_INTERVAL_MS);
  return {
    async stop(): Promise<ProcessUsage> {
      clearInterval(timer);
      const m = await memoryStatus(pid);
      peak = Math.max(peak, m.rssBytes, hwmReset ? m.hwmBytes : 0);
      return { cpuSeconds: (await cpuSeconds(pid)) - cpu0, peakRssBytes: peak };
    },
  };
}
