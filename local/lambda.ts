import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { LocalFunction } from './template.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** Lambda retries a failed asynchronous invocation twice, about one and two minutes later. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

/** How a failed invocation looks to its caller, as Lambda reports it. */
export interface FunctionError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** One finished invocation, for whoever observes the functions (the cost bench). */
export interface InvocationRecord {
  functionName: string;
  memoryMb: number;
  architecture: LocalFunction['architecture'];
  /** From the handler's start to its result or error, in ms (Lambda bills it rounded up to 1 ms). */
  durationMs: number;
  ok: boolean;
}

/** Rejected invocations: the name is Lambda's errorType, the message the AWS-style Cause JSON. */
export class LambdaInvocationError extends Error {
  constructor(readonly functionError: FunctionError) {
    super(JSON.stringify(functionError));
    this.name = functionError.errorType;
  }
}

/**
 * The deployment's functions, run in-process: each handler module is imported once (its INIT),
 * then invoked with a realistic context. Every function's environment comes from the template;
 * they share one process, so a variable two functions set differently is an error.
 */
export class LocalLambdas {
  private readonly byArn = new Map<string, LocalFunction>();
  private readonly handlers = new Map<string, Handler>();
  private stopped = false;
  private readonly observers = new Set<(record: InvocationRecord) => void>();

  constructor(
    readonly functions: LocalFunction[],
    private readonly rootDir: string,
  ) {
    for (const fn of functions) {
      this.byArn.set(fn.arn, fn);
      this.byArn.set(fn.name, fn);
    }
  }

  /** The union of the functions' environments. */
  environment(): Record<string, string> {
    const env: Record<string, string> = {};
    const setBy: Record<string, string> = {};
    for (const fn of this.functions) {
      for (const [key, value] of Object.entries(fn.environment)) {
        if (key in env && env[key] !== value) {
          throw new Error(
            `Functions ${setBy[key]} and ${fn.name} set ${key} differently; the local runtime runs them in one process`,
          );
        }
        env[key] = value;
        setBy[key] = fn.name;
      }
    }
    return env;
  }

  /**
   * Imports every handler — its INIT — with exactly the environment Lambda would give it (the
   * platform's variables, its own from the template, then local overrides), so a function that
   * reads configuration it was not given fails here as it would in AWS. Afterwards the process
   * keeps the union, for code that reads variables lazily.
   */
  async load(platform: Record<string, string>, overrides: Record<string, string> = {}): Promise<void> {
    const union = this.environment();
    for (const fn of this.functions) {
      for (const key of Object.keys(union)) delete process.env[key];
      Object.assign(process.env, platform, fn.environment, overrides);
      let module: { handler?: Handler };
      try {
        // One module instance per function, as each Lambda function has its own INIT.
        const url = `${pathToFileURL(resolve(this.rootDir, fn.entry)).href}?function=${encodeURIComponent(fn.name)}`;
        module = (await import(url)) as { handler?: Handler };
      } catch (error) {
        throw new Error(`INIT of ${fn.name} (${fn.entry}) failed: ${(error as Error).message}`, { cause: error });
      }
      if (typeof module.handler !== 'function') throw new Error(`${fn.entry} exports no handler`);
      this.handlers.set(fn.name, module.handler);
    }
    Object.assign(process.env, platform, union, overrides);
  }

  /**
   * Invokes like Lambda's asynchronous `Event` invocation (how EventBridge calls its targets): a
   * function error is retried twice, after the given delays (Lambda: about 1 and 2 minutes), then
   * the event is dropped with a log line, as without a dead-letter queue. Resolves once it settled.
   */
  async invokeAsync(arnOrName: string, event: unknown, retryDelaysMs: readonly number[] = ASYNC_RETRY_DELAYS_MS) {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.invoke(arnOrName, event);
        return;
      } catch (error) {
        const delay = retryDelaysMs[attempt];
        if (delay === undefined || this.stopped) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (this.stopped) return; // the runtime stopped meanwhile: the event goes with it
      }
    }
  }

  /**
   * Calls `observer` after every invocation from now on (none by default: nothing is measured
   * unless asked); returns the function that stops it. Observing changes no invocation.
   */
  observe(observer: (record: InvocationRecord) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** The runtime is stopping: no more retries of failed asynchronous invocations. */
  stop(): void {
    this.stopped = true;
  }

  /** Invokes like Lambda's RequestResponse: resolves with the result or rejects with LambdaInvocationError. */
  async invoke(arnOrName: string, event: unknown): Promise<unknown> {
    const fn = this.byArn.get(stripQualifier(arnOrName));
    const handler = fn && this.handlers.get(fn.name);
    if (!fn || !handler) {
      throw new LambdaInvocationError({
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${arnOrName}`,
        trace: [],
      });
    }
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const requestId = randomUUID();
    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/${requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } satisfies Context;
    // Events cross a JSON boundary in Lambda: no shared references between caller and handler.
    const payload = JSON.parse(JSON.stringify(event ?? null)) as unknown;
    let timer: NodeJS.Timeout | undefined;
    const started = performance.now();
    let ok = false;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new LambdaInvocationError({
                errorType: 'Sandbox.Timedout',
                errorMessage: `Task timed out after ${fn.timeoutSeconds} seconds`,
                trace: [],
              }),
            ),
          fn.timeoutSeconds * 1000,
        );
      });
      const result = await Promise.race([handler(payload, context), timeout]);
      ok = true;
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      if (error instanceof LambdaInvocationError) throw error;
      const e = error instanceof Error ? error : new Error(String(error));
      throw new LambdaInvocationError({
        errorType: e.name || 'Error',
        errorMessage: e.message,
        trace: (e.stack ?? '').split('\n').slice(0, 10),
      });
    } finally {
      clearTimeout(timer);
      if (this.observers.size > 0) {
        const record: InvocationRecord = {
          functionName: fn.name,
          memoryMb: fn.memoryMb,
          architecture: fn.architecture,
          durationMs: performance.now() - started,
          ok,
        };
        for (const observer of this.observers) observer(record);
      }
    }
  }
}

const stripQualifier = (arnOrName: string) => {
  const parts = arnOrName.split(':');
  // arn:aws:lambda:region:account:function:name[:qualifier]
  return parts.length === 8 ? parts.slice(0, 7).join(':') : arnOrName;
};
