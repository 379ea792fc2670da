import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { LocalRuntime } from '../../local/runtime.ts';

/**
 * Where the CPU goes during a scenario: the JVM of DynamoDB Local and this Node process (the runtime's
 * main thread and every execution environment's worker thread), in core-seconds. Read from
 * /proc/<pid>/stat (Linux), in the kernel's clock ticks of 1/100 s (USER_HZ).
 */
const TICKS_PER_SECOND = 100;

export interface CpuUse {
  seconds: number;
  jvmCoreSeconds: number;
  nodeCoreSeconds: number;
  cores: number;
}

/** The DynamoDB Local JVM that listens on `port` (its command line names the jar and the port). */
export function dynamoDbLocalPid(port: number): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined; // not Linux: the JVM's share is not measured
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const args = readOrEmpty(`/proc/${entry}/cmdline`).split('\0');
    if (args.some((arg) => arg.endsWith('DynamoDBLocal.jar')) && args[args.indexOf('-port') + 1] === String(port))
      return Number(entry);
  }
  return undefined;
}

/** The runtime's DynamoDB Local JVM, by the port of its endpoint. */
export const dynamoDbLocalOf = (runtime: LocalRuntime) => dynamoDbLocalPid(Number(new URL(runtime.urls.dynamodb).port));

/** Starts measuring; the returned function stops and answers the CPU used meanwhile. */
export function cpuMeter(jvmPid: number | undefined): () => CpuUse {
  const started = performance.now();
  const node = process.cpuUsage();
  const jvm = jvmTicks(jvmPid);
  return () => {
    const used = process.cpuUsage(node);
    return {
      seconds: (performance.now() - started) / 1000,
      // A JVM gone meanwhile reads 0 ticks: nothing is stated for it rather than a negative time.
      jvmCoreSeconds: Math.max(0, jvmTicks(jvmPid) - jvm) / TICKS_PER_SECOND,
      nodeCoreSeconds: (used.user + used.system) / 1e6,
      cores: availableParallelism(),
    };
  };
}

/** utime + stime of the process (fields 14 and 15; the command name in field 2 may hold spaces). */
function jvmTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks : 0;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * A scenario's CPU per order on each side, and the orders a second the machine's cores could take at
 * those costs: with both sides (`cpuBound`), and if this process needed no CPU at all (`jvmBound`).
 * This process's share includes the bench's own client (its requests and its polls).
 */
export function cpuPerOrder(cpu: CpuUse, orders: number): Record<string, number> {
  const jvmMs = (cpu.jvmCoreSeconds * 1000) / orders;
  const nodeMs = (cpu.nodeCoreSeconds * 1000) / orders;
  const round = (value: number, digits = 1) => Number(value.toFixed(digits));
  return {
    cores: cpu.cores,
    jvmCoresBusy: round(cpu.jvmCoreSeconds / cpu.seconds, 2),
    nodeCoresBusy: round(cpu.nodeCoreSeconds / cpu.seconds, 2),
    jvmCpuMsPerOrder: round(jvmMs),
    nodeCpuMsPerOrder: round(nodeMs),
    cpuBoundOrdersPerSecond: round((cpu.cores * 1000) / (jvmMs + nodeMs)),
    // Without a JVM measured (not Linux, or it was not found) there is no bound to state.
    ...(jvmMs > 0 ? { jvmBoundOrdersPerSecond: round((cpu.cores * 1000) / jvmMs) } : {}),
  };
}
