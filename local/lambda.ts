import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { functionBundles } from './function-bundles.ts';
import type { EnvironmentData, FromEnvironment, FunctionError, ToEnvironment } from './lambda-environment.ts';
import { shareClock, sharedState } from './shared-state.ts';
import type { LocalFunction } from './template.ts';

export type { FunctionError } from './lambda-environment.ts';

/** Lambda retries a failed asynchronous invocation twice, about one and two minutes later. */
export const ASYNC_RETRY_DELAYS_MS = [60_000, 120_000] as const;

/**
 * Execution environments one function may have at once when the template reserves none: Lambda's
 * account concurrency, scaled to one machine, one per two cores. Invocations beyond it wait for an
 * environment. The order path alone keeps about 15 functions busy at once, enough work for every
 * core; on 2 cores a second environment per function only cost memory (31 environments instead of
 * 17 in the flash sale, about 22 MB each) and time: the sale took 98 s with two per function, 76 s
 * with one. The API's functions get twice this, the order intake's at least INTAKE_ENVIRONMENTS (`limitOf`).
 */
export const DEFAULT_MAX_ENVIRONMENTS = Math.max(1, Math.floor(availableParallelism() / 2));

/**
 * Execution environments of all functions together at most (each holds about 22 MB once initialised):
 * beyond it, the least recently used idle environment with no pending work is stopped to start another.
 */
export const DEFAULT_MAX_TOTAL_ENVIRONMENTS = 40;

/**
 * Execution environments each function of the order intake (the foreground) may have at once. In AWS
 * the intake scales out with its arrivals; an environment here is started only when every one is busy,
 * so a quiet machine keeps one or two. On the slow 2-core machine (reference round trip 4.8 ms) one
 * POST /orders took long enough under a running backlog that two environments could not keep up with
 * 50 a second, and the queue in front of them was the accept latency (`npm run bench -- accept`, p99):
 * 9.7 s with two, 0.34 s with six, 0.45 and 0.65 s with eight (more only crowds the JVM and the
 * runtime's thread the intake waits on). Each costs about 22 MB: the flash sale peaked at 954 MB with
 * six, 988 MB with eight (the target is 1 GB).
 */
export const INTAKE_ENVIRONMENTS = 6;

/** Each environment's young generation (V8), in MB. */
const YOUNG_GENERATION_MB = 4;

/** Lambda's limit on INIT; locally at least the function's timeout. */
const INIT_TIMEOUT_MS = 10_000;
/** How long an idle environment has to say whether it has pending work. */
const QUIESCENCE_TIMEOUT_MS = 1_000;

/** How often an invocation waiting for room looks again for an environment that finished its pending work. */
const ROOM_RETRY_MS = 100;

/** The execution environment's entry: built with the functions, started in every worker. */
const ENVIRONMENT_ENTRY = fileURLToPath(new URL('./lambda-environment.ts', import.meta.url));

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

export interface LocalLambdasOptions {
  /**
   * Environments per function at most (default DEFAULT_MAX_ENVIRONMENTS; see `limitOf` for the API's and the
   * intake's); reserved concurrency counts below it.
   */
  maxEnvironments?: number;
  /** Environments in all at most (default DEFAULT_MAX_TOTAL_ENVIRONMENTS). */
  maxTotalEnvironments?: number;
  /** How long an INIT may take (default Lambda's 10 s, or the function's timeout when longer). */
  initTimeoutMs?: number;
  /** The functions a caller waits on (the API's routes, the token trigger), by ARN: see `limitOf`. */
  interactive?: ReadonlySet<string>;
  /**
   * The functions that take orders in (and the token trigger their clients call first), by ARN. When
   * given, every other function's environments run at a lower CPU priority (BACKGROUND_NICE).
   */
  foreground?: ReadonlySet<string>;
}

/**
 * The niceness of environments other than the order intake's. In AWS the intake's functions run on
 * capacity of their own; here every function shares two cores, and without this a backlog of orders in
 * the workflow made every new order wait seconds for its 202. The API's reads (order polls) stay with
 * the workflow: given priority too, 100 polls a second starved the workflow in the flash sale. The
 * scheduler still gives background threads every cycle the intake leaves idle.
 */
export const BACKGROUND_NICE = 10;

/**
 * The deployment's functions, run as Lambda runs them: each function's deployment bundle (built as
 * CDK builds it) in execution environments of its own — worker threads, each with its own module
 * state and its own environment variables (the host's `process.env` is untouched). An environment
 * is started on demand (its INIT is the cold start), runs one invocation at a time and stays warm
 * for the next; a function has at most its reserved concurrency (more is throttled, as Lambda's
 * `TooManyRequestsException`) or `maxEnvironments` environments (more waits), and all functions
 * together `maxTotalEnvironments` (the least recently used idle one without pending work makes room).
 * A timed-out invocation's environment is stopped, as Lambda resets it.
 */
export class LocalLambdas {
  private readonly byArn = new Map<string, LocalFunction>();
  private readonly pools = new Map<string, Pool>();
  private readonly maxEnvironments: number;
  private readonly maxTotal: number;
  private readonly initTimeoutMs: number | undefined;
  /** Environments started and not stopped, of every function. */
  private total = 0;
  /** Invocations waiting for room in the budget (their function may start one more environment). */
  private readonly waitingForRoom: (() => void)[] = [];
  private roomPoller: NodeJS.Timeout | undefined;
  private bundles: Map<string, string> | undefined;
  private bootstrap: string | undefined;
  private environments = new Map<string, Record<string, string>>();
  private stopped = false;
  /** Environments started so far (each an INIT: a cold start). */
  coldStarts = 0;
  /** Closed: no more invocations, every environment stopped. */
  private closed = false;
  private readonly observers = new Set<(record: InvocationRecord) => void>();
  /** Every environment started and not yet stopped, whatever it is doing. */
  private readonly started = new Set<ExecutionEnvironment>();
  private readonly interactive: ReadonlySet<string> | undefined;
  private readonly foreground: ReadonlySet<string> | undefined;

  constructor(
    readonly functions: LocalFunction[],
    private readonly rootDir: string,
    options: LocalLambdasOptions = {},
  ) {
    this.maxEnvironments = options.maxEnvironments ?? DEFAULT_MAX_ENVIRONMENTS;
    this.maxTotal = Math.max(1, options.maxTotalEnvironments ?? DEFAULT_MAX_TOTAL_ENVIRONMENTS);
    this.initTimeoutMs = options.initTimeoutMs;
    this.interactive = options.interactive;
    this.foreground = options.foreground;
    for (const fn of functions) {
      this.byArn.set(fn.arn, fn);
      this.byArn.set(fn.name, fn);
      this.pools.set(fn.name, { idle: [], count: 0, waiting: [] });
    }
  }

  /** The variables the functions' configurations agree on (a variable set differently by two is left out). */
  environment(): Record<string, string> {
    const env: Record<string, string> = {};
    const conflicting = new Set<string>();
    for (const fn of this.functions) {
      for (const [key, value] of Object.entries(fn.environment)) {
        if (key in env && env[key] !== value) conflicting.add(key);
        env[key] = value;
      }
    }
    for (const key of conflicting) delete env[key];
    return env;
  }

  /**
   * Builds the functions' bundles and fixes each function's environment variables: what the Lambda
   * platform gives every function (`platform`), the function's own from the template, then local
   * overrides. Environments start on the first invocations; a function whose INIT fails (it reads
   * configuration it was not given) fails those invocations, as in AWS.
   */
  async load(platform: Record<string, string>, overrides: Record<string, string> = {}): Promise<void> {
    const bundles = await functionBundles(
      this.rootDir,
      [...this.functions.map((fn) => fn.entry), ENVIRONMENT_ENTRY],
      Object.assign({}, ...this.functions.map((fn) => fn.files)),
    );
    this.bootstrap = bundles.get(ENVIRONMENT_ENTRY);
    this.bundles = bundles;
    for (const fn of this.functions) {
      this.environments.set(fn.name, {
        ...platform,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        ...fn.environment,
        ...overrides,
      });
    }
  }

  /**
   * Invokes like Lambda's asynchronous `Event` invocation (how EventBridge calls its targets): a
   * function error is retried twice, after the given delays (Lambda: about 1 and 2 minutes), then
   * the event is dropped with a log line, as without a dead-letter queue. A throttled event waits
   * for the function's concurrency, as Lambda's internal queue does. Resolves once it settled.
   */
  async invokeAsync(arnOrName: string, event: unknown, retryDelaysMs: readonly number[] = ASYNC_RETRY_DELAYS_MS) {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.run(arnOrName, event, 'wait');
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

  /** Stops every execution environment (after `stop`). */
  async close(): Promise<void> {
    this.stop();
    this.closed = true;
    for (const pool of this.pools.values()) {
      pool.idle.splice(0);
      for (const waiter of pool.waiting.splice(0)) waiter();
    }
    for (const waiter of this.waitingForRoom.splice(0)) waiter();
    clearInterval(this.roomPoller);
    this.roomPoller = undefined;
    await Promise.all([...this.started].map((environment) => environment.terminate()));
  }

  /** Environments per function now: warm (idle) and busy. */
  environmentCounts(): Record<string, { warm: number; busy: number }> {
    const counts: Record<string, { warm: number; busy: number }> = {};
    for (const environment of this.started) {
      const name = environment.functionName;
      const idle = (this.pools.get(name) as Pool).idle.includes(environment);
      counts[name] ??= { warm: 0, busy: 0 };
      counts[name][idle ? 'warm' : 'busy']++;
    }
    return counts;
  }

  /**
   * Starts one environment of each function now (their INITs, two at a time) and keeps it warm
   * while the budget allows; resolves with the functions whose INIT failed and why.
   */
  async initialize(): Promise<{ functionName: string; error: FunctionError }[]> {
    const failed: { functionName: string; error: FunctionError }[] = [];
    const queue = [...this.functions];
    const next = async (): Promise<void> => {
      for (let fn = queue.shift(); fn; fn = queue.shift()) {
        try {
          this.release(fn, await this.acquire(fn, 'wait'));
        } catch (error) {
          failed.push({ functionName: fn.name, error: (error as LambdaInvocationError).functionError });
        }
      }
    };
    await Promise.all([next(), next()]);
    return failed;
  }

  /**
   * Invokes like Lambda's RequestResponse: resolves with the result or rejects with LambdaInvocationError.
   * `onStart` is called once the invocation has an environment, after any wait for one.
   */
  invoke(arnOrName: string, event: unknown, onStart?: () => void): Promise<unknown> {
    return this.run(arnOrName, event, 'throttle', onStart);
  }

  private async run(
    arnOrName: string,
    event: unknown,
    whenThrottled: 'throttle' | 'wait',
    onStart?: () => void,
  ): Promise<unknown> {
    const fn = this.byArn.get(stripQualifier(arnOrName));
    if (!fn || !this.bundles) {
      throw new LambdaInvocationError({
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${arnOrName}`,
        trace: [],
      });
    }
    // Events cross a JSON boundary in Lambda: no shared references between caller and handler.
    const payload = JSON.stringify(event ?? null);
    const environment = await this.acquire(fn, whenThrottled);
    onStart?.();
    let record: { durationMs: number; ok: boolean } = { durationMs: 0, ok: false };
    try {
      const outcome = await environment.invoke(payload, fn.timeoutSeconds * 1000);
      record = { durationMs: outcome.durationMs, ok: !outcome.error };
      if (outcome.error) throw new LambdaInvocationError(outcome.error);
      return JSON.parse(outcome.result as string) as unknown;
    } finally {
      this.release(fn, environment);
      if (this.observers.size > 0) {
        const observed: InvocationRecord = {
          functionName: fn.name,
          memoryMb: fn.memoryMb,
          architecture: fn.architecture,
          ...record,
        };
        for (const observer of this.observers) observer(observed);
      }
    }
  }

  private async acquire(fn: LocalFunction, whenThrottled: 'throttle' | 'wait'): Promise<ExecutionEnvironment> {
    const pool = this.pools.get(fn.name) as Pool;
    // Reserved concurrency replaces the default limit (as Lambda's reservation is the function's own).
    const limit = fn.reservedConcurrency ?? this.limitOf(fn);
    let waited = false;
    for (;;) {
      if (this.closed) throw stoppedError();
      const warm = this.warmest(pool);
      if (warm) return warm;
      if (pool.count < limit) {
        // The budget is spent and others wait for room: after them.
        if (!waited && this.total >= this.maxTotal && this.waitingForRoom.length > 0) {
          await this.waitForRoom(false);
          waited = true;
          continue;
        }
        // Room for one more: counted now, so nobody else takes it meanwhile.
        pool.count++;
        this.total++;
        if (this.total > this.maxTotal && !(await this.reclaimIdle())) {
          pool.count--;
          this.total--;
          await this.waitForRoom(waited);
          waited = true;
          continue;
        }
        if (this.closed) {
          this.forget(pool);
          throw stoppedError();
        }
        const environment = new ExecutionEnvironment(
          fn,
          this.bootstrap as string,
          this.workerData(fn),
          this.environments.get(fn.name) ?? {},
          () => this.started.delete(environment),
          this.initTimeoutMs ?? Math.max(INIT_TIMEOUT_MS, fn.timeoutSeconds * 1000),
        );
        this.started.add(environment);
        this.coldStarts++;
        try {
          await environment.ready;
        } catch (error) {
          this.forget(pool);
          throw error;
        }
        if (this.closed) {
          void environment.terminate();
          this.forget(pool);
          throw stoppedError();
        }
        return environment;
      }
      if (
        whenThrottled === 'throttle' &&
        fn.reservedConcurrency !== undefined &&
        pool.count >= fn.reservedConcurrency
      ) {
        throw new LambdaInvocationError({
          errorType: 'TooManyRequestsException',
          errorMessage: `Rate Exceeded: ${fn.name} is at its reserved concurrency (${fn.reservedConcurrency})`,
          trace: [],
        });
      }
      await new Promise<void>((resolve) => pool.waiting.push(resolve));
    }
  }

  /** The pool's most recently used idle environment; one that died while idle is forgotten on the way. */
  private warmest(pool: Pool): ExecutionEnvironment | undefined {
    for (let environment = pool.idle.pop(); environment; environment = pool.idle.pop()) {
      if (!environment.stopped) return environment;
      this.forget(pool);
    }
    return undefined;
  }

  /**
   * Waits, in order of arrival (`again`: one that already waited keeps its place at the head),
   * until an environment is freed; the head also looks again every ROOM_RETRY_MS, as pending work
   * ends by itself.
   */
  private waitForRoom(again: boolean): Promise<void> {
    return new Promise<void>((resolve) => {
      if (again) this.waitingForRoom.unshift(resolve);
      else this.waitingForRoom.push(resolve);
      this.roomPoller ??= setInterval(() => {
        this.waitingForRoom.shift()?.();
        if (this.waitingForRoom.length === 0) {
          clearInterval(this.roomPoller);
          this.roomPoller = undefined;
        }
      }, ROOM_RETRY_MS);
    });
  }

  /**
   * Stops the least recently used idle environment that has no pending work, to make room; false
   * when none can go now (every other environment is busy or still has work).
   */
  private async reclaimIdle(): Promise<boolean> {
    const candidates = [...this.pools.values()]
      .flatMap((pool) => pool.idle.map((environment) => ({ pool, environment })))
      .sort((a, b) => a.environment.lastUsed - b.environment.lastUsed);
    for (const { pool, environment } of candidates) {
      const at = pool.idle.indexOf(environment);
      if (at < 0) continue; // taken meanwhile
      pool.idle.splice(at, 1);
      const quiescent = await environment.quiescent();
      if (quiescent || environment.stopped || this.closed) {
        void environment.terminate();
        pool.count--;
        this.total--;
        // Its own function's waiting invocations may start another in its place.
        pool.waiting.shift()?.();
        return !this.closed;
      }
      pool.idle.unshift(environment); // still working: back, as the least recently used
      pool.waiting.shift()?.();
    }
    return false;
  }

  private release(fn: LocalFunction, environment: ExecutionEnvironment): void {
    const pool = this.pools.get(fn.name) as Pool;
    if (environment.stopped || this.closed) {
      void environment.terminate();
      this.forget(pool);
      return;
    }
    environment.lastUsed = performance.now();
    pool.idle.push(environment);
    // A waiting invocation of this function takes it; else it may make room for another function's.
    (pool.waiting.shift() ?? this.waitingForRoom.shift())?.();
  }

  /** An environment of the pool stopped: its place is free for this function's or another's. */
  private forget(pool: Pool): void {
    pool.count--;
    this.total--;
    (pool.waiting.shift() ?? this.waitingForRoom.shift())?.();
  }

  /**
   * A function's environments at most: twice the default for the interactive ones, whose callers each
   * wait on their own answer (one environment would make every API call queue behind the others), and
   * at least INTAKE_ENVIRONMENTS for the order intake, which takes orders as fast as they come.
   */
  private limitOf(fn: LocalFunction): number {
    if (this.foreground?.has(fn.arn)) return Math.max(INTAKE_ENVIRONMENTS, 2 * this.maxEnvironments);
    return this.interactive?.has(fn.arn) ? 2 * this.maxEnvironments : this.maxEnvironments;
  }

  private workerData(fn: LocalFunction): Omit<EnvironmentData, 'shared'> {
    const bundle = this.bundles?.get(fn.entry);
    if (!bundle) throw new Error(`No bundle for ${fn.name} (${fn.entry})`);
    return {
      executionEnvironment: true,
      functionName: fn.name,
      functionArn: fn.arn,
      memoryMb: fn.memoryMb,
      timeoutSeconds: fn.timeoutSeconds,
      bundle,
      clock: shareClock(),
      nice: this.foreground && !this.foreground.has(fn.arn) ? BACKGROUND_NICE : 0,
    };
  }
}

interface Pool {
  idle: ExecutionEnvironment[];
  /** Environments started and not stopped: idle ones and busy ones. */
  count: number;
  /** Invocations waiting for an environment. */
  waiting: (() => void)[];
}

type Outcome = { durationMs: number; result?: string; error?: FunctionError };

/** One worker thread running one function's bundle, one invocation at a time. */
class ExecutionEnvironment {
  readonly ready: Promise<void>;
  stopped = false;
  /** When it last finished an invocation (performance.now()). */
  lastUsed = 0;
  readonly functionName: string;
  private quiescence: ((quiescent: boolean) => void) | undefined;
  private readonly worker: Worker;
  private readonly closeShared: () => void;
  private current: { id: number; settle: (outcome: Outcome) => void } | undefined;
  private nextId = 0;
  private initFailed: ((error: LambdaInvocationError) => void) | undefined;

  constructor(
    private readonly fn: LocalFunction,
    bootstrap: string,
    data: Omit<EnvironmentData, 'shared'>,
    env: Record<string, string>,
    private readonly onStopped: () => void,
    initTimeoutMs: number,
  ) {
    this.functionName = fn.name;
    const shared = sharedState.connect();
    this.closeShared = shared.close;
    this.worker = new Worker(bootstrap, {
      workerData: { ...data, shared: shared.link } satisfies EnvironmentData,
      transferList: [shared.link.port],
      env,
      execArgv: [],
      // The function's memory setting bounds its heap, as Lambda's bounds the environment; a small young
      // generation keeps an idle environment's footprint small (V8's default grows it to tens of MB).
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.ready = new Promise<void>((resolve, reject) => {
      // Lambda gives INIT 10 seconds (here at least the function's timeout, for a loaded machine).
      const timer = setTimeout(() => {
        this.initFailed?.(
          new LambdaInvocationError({
            errorType: 'Runtime.InitTimeout',
            errorMessage: `${fn.name}: INIT did not finish within ${initTimeoutMs / 1000} seconds`,
            trace: [],
          }),
        );
        void this.terminate();
      }, initTimeoutMs);
      this.initFailed = (error) => {
        clearTimeout(timer);
        this.initFailed = undefined;
        reject(error);
      };
      this.worker.once('message', (message: FromEnvironment) => {
        clearTimeout(timer);
        if (message.type === 'ready') {
          this.initFailed = undefined;
          this.worker.on('message', (next: FromEnvironment) => this.receive(next));
          resolve();
        } else if (message.type === 'init-error') {
          this.initFailed?.(new LambdaInvocationError(message.error));
          void this.terminate();
        }
      });
    });
    this.worker.on('error', (error) => this.crashed(error));
    this.worker.on('exit', (code) => this.crashed(new Error(`The execution environment exited with code ${code}`)));
  }

  /** Runs one invocation; the environment is stopped when it times out or the thread dies. */
  invoke(event: string, timeoutMs: number): Promise<Outcome> {
    const id = ++this.nextId;
    const deadline = Date.now() + timeoutMs;
    const started = performance.now();
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        void this.terminate();
        settle({
          durationMs: performance.now() - started,
          error: {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${this.fn.timeoutSeconds} seconds`,
            trace: [],
          },
        });
      }, timeoutMs);
      const settle = (outcome: Outcome) => {
        clearTimeout(timer);
        if (this.current?.id === id) this.current = undefined;
        resolve(outcome);
      };
      this.current = { id, settle };
      this.worker.postMessage({
        type: 'invoke',
        id,
        requestId: randomUUID(),
        event,
        deadline,
      } satisfies ToEnvironment);
    });
  }

  terminate(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.closeShared();
      this.onStopped();
    }
    return this.worker.terminate().then(() => undefined);
  }

  /** Whether the idle environment has no pending work (timers, requests), so stopping it loses nothing. */
  quiescent(): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      // A thread too busy to answer (a loop left running after its invocation) is not quiescent.
      const timer = setTimeout(() => answer(false), QUIESCENCE_TIMEOUT_MS);
      const answer = (quiescent: boolean) => {
        clearTimeout(timer);
        this.quiescence = undefined;
        resolve(quiescent);
      };
      this.quiescence = answer;
      this.worker.postMessage({ type: 'quiescent?' } satisfies ToEnvironment);
    });
  }

  private receive(message: FromEnvironment): void {
    if (message.type === 'quiescent') {
      this.quiescence?.(message.quiescent);
      return;
    }
    if (message.type !== 'result' && message.type !== 'error') return;
    if (this.current?.id !== message.id) return;
    this.current.settle(
      message.type === 'result'
        ? { durationMs: message.durationMs, result: message.result }
        : { durationMs: message.durationMs, error: message.error },
    );
  }

  /** The thread died (an uncaught error, out of memory, or stopped): its invocation fails, as Lambda's runtime exit. */
  private crashed(error: Error): void {
    const expected = this.stopped;
    if (!this.stopped) {
      this.stopped = true;
      this.closeShared();
      this.onStopped();
    }
    const reason: FunctionError = {
      errorType: 'Runtime.ExitError',
      errorMessage: `${this.fn.name}: ${error.message}`,
      trace: (error.stack ?? '').split('\n').slice(0, 10),
    };
    // A failure outside an invocation (a timer's or a forgotten promise's) has no caller to tell.
    if (!expected && !this.current)
      console.error(`${this.fn.name}: an execution environment stopped: ${error.message}`);
    this.initFailed?.(new LambdaInvocationError(reason));
    this.current?.settle({ durationMs: 0, error: reason });
    this.quiescence?.(false);
  }
}

const stoppedError = () =>
  new LambdaInvocationError({ errorType: 'ServiceException', errorMessage: 'The local runtime stopped', trace: [] });

const stripQualifier = (arnOrName: string) => {
  const parts = arnOrName.split(':');
  // arn:aws:lambda:region:account:function:name[:qualifier]
  return parts.length === 8 ? parts.slice(0, 7).join(':') : arnOrName;
};
