import { randomBytes } from 'node:crypto';
import { AwsServiceError } from '../aws-json.ts';
import { type LongTimer, setLongTimeout } from './long-timer.ts';

/**
 * Running Task attempts and the callback tokens of `.waitForTaskToken` tasks.
 */

export function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

export interface PendingTaskOptions {
  timeoutMs?: number;
  /** The timeout starts with `begin()` instead of at once. */
  timeoutFromBegin?: boolean;
  heartbeatMs?: number;
  /** Builds the error used when TimeoutSeconds elapses (States.Timeout). */
  timeoutError: () => Error;
  onSettled?: () => void;
}

/** One Task attempt whose outcome arrives later; owns its timeout and heartbeat timers. */
export class PendingTask {
  readonly promise: Promise<unknown>;
  private settled = false;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (error: Error) => void;
  private timeoutTimer: LongTimer | undefined;
  private heartbeatTimer: LongTimer | undefined;

  constructor(private readonly options: PendingTaskOptions) {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    if (!options.timeoutFromBegin) this.begin();
    this.heartbeat();
  }

  /** Starts the TimeoutSeconds countdown (once). */
  begin(): void {
    if (this.settled || this.timeoutTimer) return;
    this.timeoutTimer = startTimer(this.options.timeoutMs, () => this.reject(this.options.timeoutError()));
  }

  get isSettled(): boolean {
    return this.settled;
  }

  resolve(value: unknown): void {
    if (this.settle()) this.resolveFn(value);
  }

  reject(error: Error): void {
    if (this.settle()) this.rejectFn(error);
  }

  /** Restarts the HeartbeatSeconds countdown. */
  heartbeat(): void {
    this.heartbeatTimer?.clear();
    this.heartbeatTimer = startTimer(this.options.heartbeatMs, () =>
      this.reject(namedError('States.HeartbeatTimeout', 'States.HeartbeatTimeout')),
    );
  }

  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timeoutTimer?.clear();
    this.heartbeatTimer?.clear();
    this.options.onSettled?.();
    return true;
  }
}

/** Timeouts of days or weeks (a backorder's wait) wait in chunks: setTimeout alone would fire at once. */
function startTimer(ms: number | undefined, fire: () => void): LongTimer | undefined {
  if (ms === undefined) return undefined;
  return setLongTimeout(fire, ms);
}

interface TokenRecord {
  executionArn: string;
  /** Set while the task waits for SendTask*; cleared once the task is closed. */
  task?: PendingTask;
  closed: boolean;
}

/**
 * Task tokens by value. Closed tokens stay known so that late callbacks get TaskTimedOut
 * (what AWS answers for a task that is no longer open) rather than InvalidToken.
 */
export class TaskTokenRegistry {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly openByExecution = new Map<string, Set<string>>();

  issue(executionArn: string): string {
    const token = randomBytes(96).toString('base64');
    this.tokens.set(token, { executionArn, closed: false });
    let open = this.openByExecution.get(executionArn);
    if (!open) {
      open = new Set();
      this.openByExecution.set(executionArn, open);
    }
    open.add(token);
    return token;
  }

  /** Binds an issued token to the task waiting on it; the token closes when the task settles. */
  attach(token: string, task: PendingTask): void {
    const record = this.tokens.get(token);
    if (!record || record.closed) return;
    record.task = task;
    task.promise.then(
      () => this.close(token),
      () => this.close(token),
    );
  }

  succeed(token: unknown, output: unknown): void {
    this.openTask(token).resolve(output);
  }

  fail(token: unknown, error: Error): void {
    this.openTask(token).reject(error);
  }

  heartbeat(token: unknown): void {
    this.openTask(token).heartbeat();
  }

  /** Closes every token of a finished execution, releasing tasks that still wait. */
  closeExecution(executionArn: string, reason: Error): void {
    const open = this.openByExecution.get(executionArn);
    this.openByExecution.delete(executionArn);
    for (const token of open ?? []) {
      const record = this.tokens.get(token);
      record?.task?.reject(reason);
      this.close(token);
    }
  }

  private close(token: string): void {
    const record = this.tokens.get(token);
    if (!record || record.closed) return;
    record.closed = true;
    record.task = undefined;
    this.openByExecution.get(record.executionArn)?.delete(token);
  }

  private openTask(token: unknown): PendingTask {
    const record = typeof token === 'string' ? this.tokens.get(token) : undefined;
    if (!record) throw new AwsServiceError('InvalidToken', 'Invalid Token');
    if (record.closed || !record.task || record.task.isSettled) {
      throw new AwsServiceError('TaskTimedOut', 'Task Timed Out');
    }
    return record.task;
  }
}
