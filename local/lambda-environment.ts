import { readlinkSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { getPriority, setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { type SharedStateLink, useSharedClock, useSharedState } from './shared-state.ts';

/*
 * One execution environment (a worker thread of the local runtime), as Lambda's: its INIT imports
 * the function's bundle with the function's own environment variables (the worker's process.env),
 * then it runs one invocation at a time, keeping its module state between them while warm.
 */

/** Where, beside the bundles of a build, V8's compiled code for them is kept. */
const COMPILE_CACHE_DIR = 'compile-cache';

/** What the runtime gives an environment when it starts it. */
export interface EnvironmentData {
  /** Marks the worker data of an execution environment (this module is also imported for its types). */
  executionEnvironment: true;
  functionName: string;
  functionArn: string;
  memoryMb: number;
  timeoutSeconds: number;
  bundle: string;
  shared: SharedStateLink;
  clock: SharedArrayBuffer;
  /** Niceness of this environment's thread (0: as the runtime's). */
  nice: number;
}

/** How a failed invocation or INIT looks to its caller, as Lambda reports it. */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type ToEnvironment =
  | { type: 'invoke'; id: number; requestId: string; event: string; deadline: number }
  | { type: 'quiescent?' };
export type FromEnvironment =
  | { type: 'ready' }
  | { type: 'quiescent'; quiescent: boolean }
  | { type: 'init-error'; error: FunctionError }
  | { type: 'result'; id: number; durationMs: number; result: string }
  | { type: 'error'; id: number; durationMs: number; error: FunctionError };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export function functionError(error: unknown): FunctionError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { errorType: e.name || 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n').slice(0, 10) };
}

/**
 * Work an environment still has between invocations (timers, such as the sandbox carrier's delayed
 * status reports, even unreferenced ones; requests in flight): while there is, the runtime does not
 * reclaim it, as work a frozen Lambda environment resumes is not lost either.
 */
function trackPendingWork(): () => boolean {
  const timers = new Set<unknown>();
  const { setTimeout: set, clearTimeout: clear, fetch: originalFetch } = globalThis;
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer = set(() => {
      timers.delete(timer);
      callback(...args);
    }, ms);
    timers.add(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((timer: Parameters<typeof clearTimeout>[0]) => {
    timers.delete(timer);
    clear(timer);
  }) as typeof clearTimeout;
  let fetches = 0;
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
    fetches++;
    try {
      return await originalFetch(...args);
    } finally {
      fetches--;
    }
  }) as typeof fetch;
  // Besides the runtime's port, any referenced handle (a socket in use, a referenced timer) is work.
  return () => timers.size === 0 && fetches === 0 && process.getActiveResourcesInfo().every((r) => r === 'MessagePort');
}

/** Lowers this thread's CPU priority by `nice` (Linux schedules threads apart: setpriority on the thread's id). */
function lowerPriority(nice: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + nice));
  } catch {
    // Not Linux: the environment runs at the runtime's priority.
  }
}

async function main(port: NonNullable<typeof parentPort>, data: EnvironmentData): Promise<void> {
  if (data.nice > 0) lowerPriority(data.nice);
  useSharedClock(data.clock);
  useSharedState(data.shared);
  const quiescent = trackPendingWork();
  let handler: Handler;
  try {
    // V8 compiles a bundle once per build, not at every cold start: its code cache is kept beside the build (and
    // removed with it). Only the compilation is saved; the INIT still evaluates the whole bundle, as Lambda's does.
    // Node checks an entry against the source's size and checksum and writes it by rename, so a runtime beside
    // this one (two test files, `npm start`) sees a whole entry or none. (Node 22.8; before, every INIT compiles.)
    nodeModule.enableCompileCache?.(join(dirname(data.bundle), COMPILE_CACHE_DIR));
    const module = (await import(pathToFileURL(data.bundle).href)) as { handler?: Handler };
    // Written now, not when the thread ends: a warm environment lives as long as the runtime, so the next cold start
    // of the run finds it, and a runtime killed by a signal never ends its threads. It also frees the serialized copy.
    nodeModule.flushCompileCache?.();
    if (typeof module.handler !== 'function') throw new Error(`${data.functionName}'s bundle exports no handler`);
    handler = module.handler;
  } catch (error) {
    port.postMessage({ type: 'init-error', error: functionError(error) } satisfies FromEnvironment);
    return;
  }
  port.on('message', async (message: ToEnvironment) => {
    if (message.type === 'quiescent?') {
      port.postMessage({ type: 'quiescent', quiescent: quiescent() } satisfies FromEnvironment);
      return;
    }
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: data.functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: data.functionArn,
      memoryLimitInMB: String(data.memoryMb),
      awsRequestId: message.requestId,
      logGroupName: `/aws/lambda/${data.functionName}`,
      logStreamName: `local/${message.requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    const started = performance.now();
    try {
      const result = await handler(JSON.parse(message.event), context);
      const durationMs = performance.now() - started;
      // Results cross a JSON boundary in Lambda: what cannot be serialized fails the invocation.
      port.postMessage({
        type: 'result',
        id: message.id,
        durationMs,
        result: JSON.stringify(result ?? null),
      } satisfies FromEnvironment);
    } catch (error) {
      const durationMs = performance.now() - started;
      port.postMessage({
        type: 'error',
        id: message.id,
        durationMs,
        error: functionError(error),
      } satisfies FromEnvironment);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromEnvironment);
}

if (parentPort && (workerData as Partial<EnvironmentData> | undefined)?.executionEnvironment)
  void main(parentPort, workerData as EnvironmentData);
