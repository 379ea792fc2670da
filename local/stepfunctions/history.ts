import { deflateSync, inflateSync } from 'node:zlib';
import type { StateMachine } from 'aws-local-stepfunctions';

/**
 * Builds an AWS-shaped execution history (GetExecutionHistory) from two sources: the
 * interpreter's event log (state transitions) and the service's own Task attempts (scheduling,
 * callbacks, results). The interpreter's log is read asynchronously, so Task events are held in
 * their attempt and written out when the log reaches the matching state event.
 */

type RunHandle = ReturnType<StateMachine['run']>;
export type InterpreterEvent = RunHandle['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export type EventDetails = Record<string, unknown>;

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [detailsKey: string]: unknown;
}

interface PendingEvent {
  type: string;
  details?: EventDetails;
  timestampMs: number;
}

const NOT_TRUNCATED = { truncated: false };
/** Detail fields that carry execution data, dropped when includeExecutionData is false. */
const DATA_FIELDS = new Set(['input', 'inputDetails', 'output', 'outputDetails', 'parameters']);

export function toJsonText(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** AWS names the details member after the event type: TaskScheduled -> taskScheduledEventDetails. */
function detailsKeyOf(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type.charAt(0).toLowerCase()}${type.slice(1)}EventDetails`;
}

/** Task* events for integrations (lambda:invoke), LambdaFunction* for a plain function ARN. */
export type AttemptFamily = 'Task' | 'LambdaFunction';

/** Events of one Task attempt (TaskScheduled … TaskSucceeded), in the order they happened. */
export class TaskAttempt {
  readonly events: PendingEvent[] = [];
  flushed = 0;
  outcome: 'succeeded' | 'failed' | undefined;

  /** `resource` holds the fields every Task* event repeats (resourceType, resource). */
  constructor(
    readonly family: AttemptFamily,
    readonly resource: EventDetails,
  ) {}

  get ended(): boolean {
    return this.outcome !== undefined;
  }

  record(type: string, details?: EventDetails): void {
    if (this.ended) return;
    this.events.push({ type, details, timestampMs: Date.now() });
  }

  end(type: string, details: EventDetails): void {
    this.record(type, details);
    this.outcome ??= type.endsWith('Succeeded') ? 'succeeded' : 'failed';
  }
}

/**
 * Attempts by state name, oldest first. Concurrent Map iterations run the same state, and the
 * interpreter forwards their events in no strict order, so the end of an attempt is matched by
 * outcome: a failed state takes the oldest failed (or still open) attempt, an exited state the
 * oldest successful one.
 */
class AttemptQueues {
  private readonly queues = new Map<string, TaskAttempt[]>();

  push(stateName: string, attempt: TaskAttempt): void {
    const queue = this.queues.get(stateName);
    if (queue) queue.push(attempt);
    else this.queues.set(stateName, [attempt]);
  }

  shift(stateName: string, avoid?: TaskAttempt['outcome']): TaskAttempt | undefined {
    const queue = this.queues.get(stateName);
    if (!queue) return undefined;
    const preferred = avoid === undefined ? 0 : queue.findIndex((attempt) => attempt.outcome !== avoid);
    const [attempt] = queue.splice(Math.max(preferred, 0), 1);
    if (queue.length === 0) this.queues.delete(stateName);
    return attempt;
  }
}

export class ExecutionHistory {
  private list: HistoryEvent[] = [];
  /** A finished execution's events as deflated JSON: about a tenth of their size as objects. */
  private packed: Buffer | undefined;
  private readonly notEntered = new AttemptQueues();
  private readonly inProgress = new AttemptQueues();
  /** Caught failures by state (and Map iteration): their StateExited ends no attempt. */
  private readonly caught = new Map<string, number>();

  get events(): readonly HistoryEvent[] {
    return this.packed ? (JSON.parse(inflateSync(this.packed).toString('utf8')) as HistoryEvent[]) : this.list;
  }

  /**
   * Keeps the events compressed once the execution has ended: a local runtime holds every execution's
   * history (a flash sale's 2,000 took about 30 KB each as objects, 1.5 KB packed). Reading unpacks a
   * copy; a new event (a redrive's) unpacks them for good.
   */
  pack(): void {
    if (this.packed) return;
    this.packed = deflateSync(JSON.stringify(this.list));
    this.list = [];
  }

  add(type: string, details?: EventDetails, timestampMs = Date.now()): void {
    if (this.packed) {
      this.list = this.events as HistoryEvent[];
      this.packed = undefined;
    }
    const id = this.list.length + 1;
    const event: HistoryEvent = { id, previousEventId: id - 1, timestamp: timestampMs / 1000, type };
    if (details) event[detailsKeyOf(type)] = details;
    this.list.push(event);
  }

  /** Registers a Task attempt; called synchronously when the interpreter runs the Task. */
  startAttempt(stateName: string, family: AttemptFamily, resource: EventDetails): TaskAttempt {
    const attempt = new TaskAttempt(family, resource);
    this.notEntered.push(stateName, attempt);
    return attempt;
  }

  ingest(event: InterpreterEvent): void {
    switch (event.type) {
      case 'StateEntered':
        this.stateEntered(event.state.name, event.state.type, event.state.input);
        break;
      case 'StateRetried':
        if (event.state.type === 'Task') this.flushStart(event.state.name);
        break;
      case 'StateFailed':
        this.stateFailed(event.state.name, event.state.type, event.Error, event.Cause);
        break;
      case 'StateCaught':
        this.countCaught(caughtKey(event.state.name, event.index), 1);
        break;
      case 'StateExited': {
        const wasCaught = this.countCaught(caughtKey(event.state.name, event.index), -1);
        this.stateExited(event.state.name, event.state.type, event.state.output, wasCaught);
        break;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.add(event.type, { name: event.parentState.name, index: event.index });
        break;
      default:
        // Execution-level events are written by the service; branch events have no AWS counterpart.
        break;
    }
  }

  private stateEntered(name: string, type: string, input: unknown): void {
    this.add(`${type}StateEntered`, {
      name,
      input: toJsonText(input),
      inputDetails: NOT_TRUNCATED,
    });
    if (type === 'Map' || type === 'Parallel') this.add(`${type}StateStarted`);
    if (type === 'Task') this.flushStart(name);
  }

  /** Adjusts the caught count; returns whether a caught failure was pending before. */
  private countCaught(key: string, delta: 1 | -1): boolean {
    const count = this.caught.get(key) ?? 0;
    if (delta < 0 && count === 0) return false;
    if (count + delta === 0) this.caught.delete(key);
    else this.caught.set(key, count + delta);
    return count > 0;
  }

  private stateFailed(name: string, type: string, error: string, cause: unknown): void {
    if (type === 'Task') this.flushEnd(name, 'succeeded', error, cause);
    if (type === 'Map' || type === 'Parallel') this.add(`${type}StateFailed`);
  }

  private stateExited(name: string, type: string, output: unknown, wasCaught: boolean): void {
    // A caught failure was already closed by its TaskFailed / MapStateFailed / ParallelStateFailed.
    if (!wasCaught && type === 'Task') this.flushEnd(name, 'failed');
    if (!wasCaught && (type === 'Map' || type === 'Parallel')) this.add(`${type}StateSucceeded`);
    this.add(`${type}StateExited`, {
      name,
      output: toJsonText(output),
      outputDetails: NOT_TRUNCATED,
    });
  }

  private flushStart(stateName: string): void {
    const attempt = this.notEntered.shift(stateName);
    if (!attempt) return;
    this.flush(attempt);
    this.inProgress.push(stateName, attempt);
  }

  /** Writes the rest of the attempt; an error the service never saw (a path failure, say) ends it. */
  private flushEnd(stateName: string, avoid: TaskAttempt['outcome'], error?: string, cause?: unknown): void {
    const attempt = this.inProgress.shift(stateName, avoid);
    if (!attempt) return;
    if (!attempt.ended && error !== undefined) {
      const outcome = error === 'States.Timeout' ? 'TimedOut' : 'Failed';
      attempt.end(`${attempt.family}${outcome}`, {
        ...attempt.resource,
        error,
        cause: typeof cause === 'string' ? cause : toJsonText(cause),
      });
    }
    this.flush(attempt);
  }

  private flush(attempt: TaskAttempt): void {
    for (const event of attempt.events.slice(attempt.flushed)) {
      this.add(event.type, event.details, event.timestampMs);
    }
    attempt.flushed = attempt.events.length;
  }
}

function caughtKey(stateName: string, mapIndex: number | undefined): string {
  return `${stateName}\u0000${mapIndex ?? ''}`;
}

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: HistoryEvent = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || typeof value !== 'object' || value === null) continue;
    copy[key] = Object.fromEntries(Object.entries(value).filter(([field]) => !DATA_FIELDS.has(field)));
  }
  return copy;
}

export interface HistoryPageRequest {
  maxResults?: number;
  reverseOrder?: boolean;
  nextToken?: string;
  includeExecutionData?: boolean;
}

/** One GetExecutionHistory page; the token is the next event id, stable while events append. */
export function historyPage(
  events: readonly HistoryEvent[],
  request: HistoryPageRequest,
): { events: HistoryEvent[]; nextToken?: string } {
  const pageSize = request.maxResults && request.maxResults > 0 ? Math.min(request.maxResults, 1000) : 100;
  const reverse = request.reverseOrder === true;
  const startId = request.nextToken ? Number(request.nextToken) : reverse ? events.length : 1;
  if (!Number.isInteger(startId) || startId < 0 || startId > events.length + 1) {
    throw new RangeError('Invalid nextToken');
  }
  const page: HistoryEvent[] = [];
  let id = startId;
  while (page.length < pageSize && id >= 1 && id <= events.length) {
    const event = events[id - 1];
    if (event) page.push(request.includeExecutionData === false ? withoutData(event) : event);
    id += reverse ? -1 : 1;
  }
  const more = id >= 1 && id <= events.length;
  return more ? { events: page, nextToken: String(id) } : { events: page };
}
