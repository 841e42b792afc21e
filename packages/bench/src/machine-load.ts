/**
 * What else ran on the machine while one implementation was being timed: the CPU time its neighbours
 * (the other children of a case, which sit idle between their turns) used, and the time the hypervisor
 * took from this VM ("steal"). Both come from Linux's /proc; where it is missing, nothing is measured and
 * the runner trusts every turn, as it did before.
 */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time (ms) used so far by every thread of process `pid`, from `/proc/<pid>/task/<tid>/schedstat`
 * (nanoseconds; the tick-based counters of /proc/<pid>/stat are too coarse for 50 ms turns). Threads that
 * already exited are not counted, which only ever lowers the figure. Null where /proc cannot be read.
 */
export function processCpuMs(pid: number): number | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  let ns = 0;
  for (const tid of tids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) || 0;
    } catch {
      // the thread exited between the listing and the read
    }
  }
  return ns / 1e6;
}

/** Milliseconds per clock tick of /proc/stat (USER_HZ, 100 on every Linux that Node supports). */
const TICK_MS = 10;

/** CPU time (ms) the hypervisor has stolen from this machine since boot, all CPUs together; null off Linux. */
export function stealMs(): number | null {
  try {
    const cpu = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/);
    // cpu user nice system idle iowait irq softirq steal …
    return cpu[0] === "cpu" && cpu.length > 8 ? Number(cpu[8]) * TICK_MS : null;
  } catch {
    return null;
  }
}

/** What a turn shared the machine with. */
export interface Interference {
  /** CPU time (ms) the neighbouring child processes used during the turn. */
  readonly neighbourMs: number;
  /** CPU time (ms) the hypervisor stole from the machine during the turn (10 ms resolution). */
  readonly stealMs: number;
}

/** A reading taken before a turn; `end()` gives what happened since, or null where /proc is missing. */
export interface LoadWatch {
  end(): Interference | null;
}

/** Starts watching the processes `pids` (the neighbours of the child about to be timed) and steal time. */
export function watchLoad(pids: readonly number[]): LoadWatch {
  const cpu = () => {
    let sum = 0;
    for (const pid of pids) {
      const ms = processCpuMs(pid);
      if (ms === null) return null;
      sum += ms;
    }
    return sum;
  };
  const cpu0 = cpu();
  const steal0 = stealMs();
  return {
    end() {
      const cpu1 = cpu();
      const steal1 = stealMs();
      if (cpu0 === null || cpu1 === null || steal0 === null || steal1 === null) return null;
      return { neighbourMs: Math.max(0, cpu1 - cpu0), stealMs: Math.max(0, steal1 - steal0) };
    },
  };
}
