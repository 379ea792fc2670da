import { randomUUID } from 'node:crypto';
import {
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { AwsServiceError, startAwsJsonServer } from '../aws-json.ts';
import { analyzeDefinition, type TaskSpec } from './definition.ts';
import { ExecutionHistory, historyPage, type InterpreterEvent, toJsonText } from './history.ts';
import { fatalError, runTask, type TaskRunContext } from './lambda-tasks.ts';
import { type LongTimer, setLongTimeout } from './long-timer.ts';
import { namedError, type PendingTask, TaskTokenRegistry } from './task-tokens.ts';
import type {
  LocalStateMachine,
  StatusChangeEvent,
  StepFunctionsService,
  StepFunctionsServiceOptions,
} from './types.ts';

/**
 * A local AWS Step Functions (Standard workflows) endpoint speaking the real JSON API
 * (awsJson1_0, `AWSStepFunctions.<Operation>`, RedriveExecution included), so @aws-sdk/client-sfn and the AWS CLI work
 * against it unchanged. Executions run in-process on the aws-local-stepfunctions interpreter;
 * Task states are served by a local Lambda invoker.
 */

export type * from './types.ts';

type JsonValue = Parameters<StateMachine['run']>[0];
type Input = Record<string, unknown>;
type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
const MAX_INPUT_BYTES = 256 * 1024;
/** AWS: 1-80 characters, no whitespace, brackets, wildcards, special or control characters. */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;
/** AWS keeps an ended execution redrivable for 14 days. */
const REDRIVE_WINDOW_MS = 14 * 86_400_000;
const REDRIVABLE_STATUSES: readonly ExecutionStatus[] = ['FAILED', 'ABORTED', 'TIMED_OUT'];
/** What the interpreter reports for a Fail state without Error/Cause, which AWS leaves empty. */
const FAIL_STATE_DEFAULTS = { error: 'FailStateError', cause: 'Execution failed because of a Fail state' };

interface Machine {
  name: string;
  arn: string;
  definitionText: string;
  roleArn: string;
  createdMs: number;
  interpreter: StateMachine;
  /** The runnable definition, from which a redrive builds an interpreter starting at the failed state. */
  runnable: StateMachineDefinition;
  /** Names of the top-level states (state names are unique: a redrive restarts at one of these). */
  topLevelStates: ReadonlySet<string>;
  /** The execution timeout (TimeoutSeconds), enforced by the service. */
  timeoutMs?: number;
  tasks: TaskSpec[];
  /** In start order; list operations walk it backwards for newest first. */
  executions: Execution[];
  byName: Map<string, Execution>;
}

interface Execution {
  arn: string;
  name: string;
  machine: Machine;
  input: string;
  startMs: number;
  stopMs?: number;
  status: ExecutionStatus;
  output?: string;
  error?: string;
  cause?: string;
  history: ExecutionHistory;
  openTasks: Set<PendingTask>;
  /** Issued by reading `$$.Task.Token`, until the Task state that asked for it claims it. */
  issuedToken?: string;
  /** The interpreter has produced its result; a stop can no longer change the outcome. */
  settled: boolean;
  stop?: { error?: string; cause?: string; silent?: boolean; timedOut?: boolean };
  timeout?: LongTimer;
  abort(): void;
  done: Promise<void>;
  /** The top-level state entered last and not exited, with its input: where a redrive restarts. */
  current?: { name: string; input: JsonValue };
  redriveCount: number;
  redriveMs?: number;
  /** The clientToken of the last redrive: the same request again is answered, not repeated. */
  redriveToken?: string;
}

type Outcome = { output: unknown } | { error: unknown };

const seconds = (ms: number) => ms / 1000;

function optionalString(input: Input, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsServiceError('ValidationException', `${key} must be a string`);
  return value;
}

function requiredString(input: Input, key: string): string {
  const value = optionalString(input, key);
  if (value === undefined) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value null at '${key}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function pageSize(input: Input): number {
  const max = input.maxResults;
  return typeof max === 'number' && max > 0 ? Math.min(max, 1000) : 100;
}

function parseJson(text: string, code: string, what: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (error) {
    throw new AwsServiceError(code, `Invalid ${what}: ${(error as Error).message}`);
  }
}

/** Error and Cause of a failed run, as DescribeExecution reports them. */
function failureOf(error: unknown): { error?: string; cause?: string } {
  const root = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (!(root instanceof Error)) return { error: 'States.Runtime', cause: String(root) };
  if (root.name === FAIL_STATE_DEFAULTS.error && root.message === FAIL_STATE_DEFAULTS.cause) return {};
  return { error: root.name || undefined, cause: root.message || undefined };
}

let timeoutErrorFactory: Promise<() => Error> | undefined;

/**
 * The interpreter exempts only its own (unexported) timeout class from the States.TaskFailed
 * wildcard, as AWS does for States.Timeout. Provoking one timeout reveals that class, so the
 * service's own Task timeouts are indistinguishable from the interpreter's.
 */
function interpreterTimeoutError(): Promise<() => Error> {
  timeoutErrorFactory ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 0.001, End: true },
        },
      } as StateMachineDefinition,
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run(null, { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => {}) } } });
    try {
      await run.result;
    } catch (error) {
      const cause = (error as Error).cause;
      if (cause instanceof Error && cause.name === 'States.Timeout') {
        const TimeoutError = cause.constructor as new () => Error;
        return () => new TimeoutError();
      }
    }
    return () => namedError('States.Timeout', 'States.Timeout');
  })();
  return timeoutErrorFactory;
}

class LocalStepFunctions {
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly registry = new TaskTokenRegistry();

  constructor(
    private readonly options: StepFunctionsServiceOptions,
    private readonly timeoutError: () => Error,
  ) {
    for (const machine of options.stateMachines) this.register(machine);
  }

  get machineArns(): Record<string, string> {
    return Object.fromEntries([...this.machines.values()].map((machine) => [machine.name, machine.arn]));
  }

  /**
   * The execution timeout in ms (the definition's TimeoutSeconds, or the test override). The
   * service enforces it with a chunked timer: the interpreter's own setTimeout would fire at once
   * for more than 2^31-1 ms (about 24.8 days), so the interpreter gets the definition without it.
   */
  private executionTimeoutMs(definition: StateMachineDefinition): number | undefined {
    const override = this.options.executionTimeoutOverrideMs;
    if (override !== undefined) return override;
    const timeout = (definition as { TimeoutSeconds?: unknown }).TimeoutSeconds;
    return typeof timeout === 'number' && timeout > 0 ? timeout * 1000 : undefined;
  }

  private withoutExecutionTimeout(definition: StateMachineDefinition): StateMachineDefinition {
    const { TimeoutSeconds: _enforcedByTheService, ...rest } = definition as StateMachineDefinition & {
      TimeoutSeconds?: number;
    };
    return rest as StateMachineDefinition;
  }

  private register(local: LocalStateMachine): void {
    const { region, accountId } = this.options;
    const arn = `arn:aws:states:${region}:${accountId}:stateMachine:${local.name}`;
    if (this.machines.has(arn)) throw new Error(`State machine "${local.name}" is defined twice`);
    const analyzed = analyzeDefinition(local.name, local.definition, this.options.taskTimeoutOverrides);
    try {
      // Validates the definition as written; the runnable variant differs only in Task timeouts.
      new StateMachine(analyzed.original);
    } catch (error) {
      throw new Error(`State machine "${local.name}": ${(error as Error).message}`);
    }
    this.machines.set(arn, {
      name: local.name,
      arn,
      definitionText: local.definition,
      roleArn: local.roleArn ?? `arn:aws:iam::${accountId}:role/${local.name}-role`,
      createdMs: Date.now(),
      timeoutMs: this.executionTimeoutMs(analyzed.runnable),
      interpreter: new StateMachine(this.withoutExecutionTimeout(analyzed.runnable), {
        validationOptions: { noValidate: true },
      }),
      runnable: this.withoutExecutionTimeout(analyzed.runnable),
      topLevelStates: new Set(Object.keys((analyzed.runnable as { States: object }).States)),
      tasks: [...analyzed.tasks.values()],
      executions: [],
      byName: new Map(),
    });
  }

  operations(): Record<string, (input: Input) => unknown> {
    return {
      ListStateMachines: () => this.listStateMachines(),
      DescribeStateMachine: (input) => this.describeStateMachine(input),
      DescribeStateMachineForExecution: (input) => this.describeStateMachineForExecution(input),
      StartExecution: (input) => this.startExecution(input),
      DescribeExecution: (input) => this.describeExecution(input),
      ListExecutions: (input) => this.listExecutions(input),
      GetExecutionHistory: (input) => this.getExecutionHistory(input),
      StopExecution: (input) => this.stopExecution(input),
      RedriveExecution: (input) => this.redriveExecution(input),
      SendTaskSuccess: (input) => this.sendTaskSuccess(input),
      SendTaskFailure: (input) => this.sendTaskFailure(input),
      SendTaskHeartbeat: (input) => this.sendTaskHeartbeat(input),
    };
  }

  private machineFor(input: Input): Machine {
    const arn = requiredString(input, 'stateMachineArn');
    if (!arn.startsWith('arn:aws:states:') || !arn.includes(':stateMachine:')) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    }
    const machine = this.machines.get(arn);
    if (!machine) throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private executionFor(input: Input): Execution {
    const arn = requiredString(input, 'executionArn');
    if (!arn.startsWith('arn:aws:states:') || !arn.includes(':execution:')) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
    }
    const execution = this.executions.get(arn);
    if (!execution) throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  private listStateMachines() {
    return {
      stateMachines: [...this.machines.values()].map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(machine.createdMs),
      })),
    };
  }

  private describeStateMachine(input: Input) {
    const machine = this.machineFor(input);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definitionText,
      roleArn: machine.roleArn,
      type: 'STANDARD',
      creationDate: seconds(machine.createdMs),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private describeStateMachineForExecution(input: Input) {
    const { machine } = this.executionFor(input);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: machine.definitionText,
      roleArn: machine.roleArn,
      updateDate: seconds(machine.createdMs),
    };
  }

  private startExecution(input: Input) {
    const machine = this.machineFor(input);
    const name = optionalString(input, 'name') ?? randomUUID();
    if (!EXECUTION_NAME.test(name)) throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    const inputText = optionalString(input, 'input') ?? '{}';
    const existing = machine.byName.get(name);
    if (existing) {
      // AWS Standard: an identical request for a running execution is idempotent.
      if (existing.status === 'RUNNING' && existing.input === inputText) return this.startResponse(existing);
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.arn}'`);
    }
    if (Buffer.byteLength(inputText) > MAX_INPUT_BYTES) {
      throw new AwsServiceError('InvalidExecutionInput', 'Invalid Execution Input: input exceeds 262144 bytes');
    }
    const parsed = parseJson(inputText, 'InvalidExecutionInput', 'Execution Input');
    const execution = this.createExecution(machine, name, inputText);
    this.launch(execution, parsed);
    return this.startResponse(execution);
  }

  private startResponse(execution: Execution) {
    return { executionArn: execution.arn, startDate: seconds(execution.startMs) };
  }

  private createExecution(machine: Machine, name: string, input: string): Execution {
    const { region, accountId } = this.options;
    const execution: Execution = {
      arn: `arn:aws:states:${region}:${accountId}:execution:${machine.name}:${name}`,
      name,
      machine,
      input,
      startMs: Date.now(),
      status: 'RUNNING',
      history: new ExecutionHistory(),
      openTasks: new Set(),
      settled: false,
      abort: () => undefined,
      done: Promise.resolve(),
      redriveCount: 0,
    };
    execution.history.add('ExecutionStarted', {
      input,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
    });
    machine.executions.push(execution);
    machine.byName.set(name, execution);
    this.executions.set(execution.arn, execution);
    this.emitStatus(execution);
    return execution;
  }

  private taskContext(execution: Execution): TaskRunContext {
    const { lambda, region, accountId } = this.options;
    return {
      lambda,
      region,
      accountId,
      executionArn: execution.arn,
      history: execution.history,
      registry: this.registry,
      timeoutError: this.timeoutError,
      takeIssuedToken: () => {
        const token = execution.issuedToken;
        execution.issuedToken = undefined;
        return token;
      },
      track: (task) => {
        execution.openTasks.add(task);
        task.promise.then(
          () => execution.openTasks.delete(task),
          () => execution.openTasks.delete(task),
        );
      },
      isRunning: () => !execution.settled && !execution.stop,
    };
  }

  /**
   * The interpreter copies the context object once per run, but keeps nested objects by
   * reference: a getter on `Task.Token` therefore runs each time a state's input reads
   * `$$.Task.Token`. Repeated reads within one state get the same token; the Task claims it
   * synchronously right after its input is built.
   */
  private runContext(execution: Execution): RunOptions['context'] {
    const registry = this.registry;
    return {
      Execution: {
        Id: execution.arn,
        Name: execution.name,
        RoleArn: execution.machine.roleArn,
        StartTime: new Date(execution.startMs).toISOString(),
        RedriveCount: execution.redriveCount,
        ...(execution.redriveMs === undefined ? {} : { RedriveTime: new Date(execution.redriveMs).toISOString() }),
      },
      StateMachine: { Id: execution.machine.arn, Name: execution.machine.name },
      Task: {
        get Token(): string {
          execution.issuedToken ??= registry.issue(execution.arn);
          return execution.issuedToken;
        },
      },
    };
  }

  /** `from`: the state a redrive restarts at (the run's StartAt otherwise). */
  private launch(execution: Execution, input: JsonValue, from?: string): void {
    const ctx = this.taskContext(execution);
    const overrides = this.options.taskTimeoutOverrides ?? {};
    const handlers = Object.fromEntries(
      execution.machine.tasks.map((spec) => [
        spec.stateName,
        (taskInput: JsonValue) => runTask(ctx, spec, overrides[spec.stateName], taskInput) as Promise<JsonValue>,
      ]),
    );
    const interpreter =
      from === undefined
        ? execution.machine.interpreter
        : new StateMachine({ ...execution.machine.runnable, StartAt: from } as StateMachineDefinition, {
            validationOptions: { noValidate: true },
          });
    const run = interpreter.run(input, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        retryIntervalOverrides: this.options.retryIntervalOverrides,
        waitTimeOverrides: this.options.waitTimeOverrides,
      },
      context: this.runContext(execution),
      noThrowOnAbort: true,
    });
    execution.abort = run.abort;
    const { timeoutMs } = execution.machine;
    if (timeoutMs !== undefined)
      execution.timeout = setLongTimeout(() => {
        if (execution.settled || execution.stop) return;
        execution.stop = { timedOut: true };
        execution.abort();
      }, timeoutMs);
    const drained = this.drain(run.eventLogs, execution);
    execution.done = this.complete(execution, run.result, drained);
  }

  private async drain(events: AsyncGenerator<InterpreterEvent>, execution: Execution): Promise<void> {
    const { topLevelStates } = execution.machine;
    try {
      for await (const event of events) {
        execution.history.ingest(event);
        // Where a redrive restarts: the top-level state that was running when the execution ended.
        if (event.type === 'StateEntered' && topLevelStates.has(event.state.name) && event.index === undefined)
          execution.current = { name: event.state.name, input: event.state.input as JsonValue };
        else if (
          event.type === 'StateExited' &&
          execution.current?.name === event.state.name &&
          event.index === undefined
        )
          execution.current = undefined;
      }
    } catch (error) {
      console.error('Step Functions history could not be recorded:', error);
    }
  }

  private async complete(execution: Execution, result: Promise<unknown>, drained: Promise<void>): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = { output: await result };
    } catch (error) {
      outcome = { error };
    }
    execution.settled = true;
    execution.timeout?.clear();
    // The interpreter closes its log when the run ends; finish only once the history is complete.
    await drained;
    this.finish(execution, outcome);
  }

  private finish(execution: Execution, outcome: Outcome): void {
    const { history } = execution;
    if (execution.stop?.timedOut || ('error' in outcome && outcome.error instanceof ExecutionTimeoutError)) {
      execution.status = 'TIMED_OUT';
      execution.error = 'States.Timeout';
      execution.cause = 'The execution exceeded the TimeoutSeconds of the state machine';
      history.add('ExecutionTimedOut', { error: execution.error, cause: execution.cause });
    } else if (execution.stop) {
      execution.status = 'ABORTED';
      execution.error = execution.stop.error;
      execution.cause = execution.stop.cause;
      history.add('ExecutionAborted', { error: execution.error, cause: execution.cause });
    } else if ('error' in outcome) {
      execution.status = 'FAILED';
      Object.assign(execution, failureOf(outcome.error));
      history.add('ExecutionFailed', { error: execution.error, cause: execution.cause });
    } else {
      execution.status = 'SUCCEEDED';
      execution.output = toJsonText(outcome.output);
      history.add('ExecutionSucceeded', { output: execution.output, outputDetails: { truncated: false } });
    }
    execution.stopMs = Date.now();
    history.pack();
    this.release(execution);
    if (!execution.stop?.silent) this.emitStatus(execution);
  }

  /** Closes the execution's tokens and lets the interpreter's abandoned Task awaits end. */
  private release(execution: Execution): void {
    const ended = fatalError('States.Runtime', 'Execution is no longer running');
    this.registry.closeExecution(execution.arn, ended);
    for (const task of execution.openTasks) task.reject(ended);
    execution.issuedToken = undefined;
  }

  private emitStatus(execution: Execution): void {
    const sink = this.options.onStatusChange;
    if (!sink) return;
    const event: StatusChangeEvent = {
      source: 'aws.states',
      detailType: 'Step Functions Execution Status Change',
      resources: [execution.arn],
      detail: {
        executionArn: execution.arn,
        stateMachineArn: execution.machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startMs,
        stopDate: execution.stopMs ?? null,
        input: execution.input,
        output: execution.output ?? null,
        inputDetails: { included: true },
        outputDetails: execution.output === undefined ? null : { included: true },
        error: execution.error ?? null,
        cause: execution.cause ?? null,
        redriveCount: execution.redriveCount,
        redriveDate: execution.redriveMs ?? null,
        redriveStatus: this.redrivability(execution).redriveStatus,
        redriveStatusReason: this.redrivability(execution).redriveStatusReason ?? null,
      },
    };
    const report = (error: unknown) => console.error('Step Functions status change delivery failed:', error);
    try {
      Promise.resolve(sink(event)).catch(report);
    } catch (error) {
      report(error);
    }
  }

  private describeExecution(input: Input) {
    const execution = this.executionFor(input);
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: seconds(execution.startMs),
      stopDate: execution.stopMs === undefined ? undefined : seconds(execution.stopMs),
      input: execution.input,
      inputDetails: { included: true },
      output: execution.output,
      outputDetails: execution.output === undefined ? undefined : { included: true },
      error: execution.error,
      cause: execution.cause,
      redriveCount: execution.redriveCount,
      ...(execution.redriveMs === undefined ? {} : { redriveDate: seconds(execution.redriveMs) }),
      ...this.redrivability(execution),
    };
  }

  /** Whether RedriveExecution would accept the execution, and why not, in the words of the API. */
  private redrivability(execution: Execution): { redriveStatus: string; redriveStatusReason?: string } {
    const not = (redriveStatusReason: string) => ({ redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason });
    if (!REDRIVABLE_STATUSES.includes(execution.status))
      return not(`Execution is ${execution.status} and cannot be redriven`);
    if (Date.now() - (execution.stopMs ?? 0) > REDRIVE_WINDOW_MS)
      return not('Execution can no longer be redriven: it ended more than 14 days ago');
    if (!execution.current) return not('Execution has no failed state to redrive from');
    return { redriveStatus: 'REDRIVABLE' };
  }

  /**
   * RedriveExecution: an execution that ended FAILED, ABORTED or TIMED_OUT restarts at the state
   * that did not succeed, with the input that state was given; the states before it are not run
   * again. The history goes on with ExecutionRedriven, the execution counts its redrives. A Map
   * state is restarted whole (AWS restarts its failed iterations only).
   */
  private redriveExecution(input: Input) {
    const execution = this.executionFor(input);
    const clientToken = optionalString(input, 'clientToken');
    if (clientToken !== undefined && clientToken === execution.redriveToken && execution.redriveMs !== undefined)
      return { redriveDate: seconds(execution.redriveMs) };
    const { redriveStatus, redriveStatusReason } = this.redrivability(execution);
    if (redriveStatus !== 'REDRIVABLE') throw new AwsServiceError('ExecutionNotRedrivable', redriveStatusReason ?? '');
    const from = execution.current as { name: string; input: JsonValue };
    execution.redriveCount++;
    execution.redriveMs = Date.now();
    execution.redriveToken = clientToken;
    Object.assign(execution, {
      status: 'RUNNING',
      stopMs: undefined,
      output: undefined,
      error: undefined,
      cause: undefined,
      stop: undefined,
      settled: false,
      timeout: undefined,
      current: undefined,
    });
    execution.history.add('ExecutionRedriven', { redriveCount: execution.redriveCount });
    this.emitStatus(execution);
    this.launch(execution, from.input, from.name);
    return { redriveDate: seconds(execution.redriveMs) };
  }

  private listExecutions(input: Input) {
    const machine = this.machineFor(input);
    const filter = optionalString(input, 'statusFilter');
    if (filter !== undefined && !STATUSES.includes(filter as ExecutionStatus)) {
      throw new AwsServiceError('ValidationException', `Invalid statusFilter: '${filter}'`);
    }
    const token = optionalString(input, 'nextToken');
    let index = token === undefined ? machine.executions.length - 1 : Number(token);
    if (!Number.isInteger(index) || index >= machine.executions.length) {
      throw new AwsServiceError('InvalidToken', 'Invalid Token');
    }
    const matches = (execution: Execution) => filter === undefined || execution.status === filter;
    const size = pageSize(input);
    const executions = [];
    for (; index >= 0 && executions.length < size; index--) {
      const execution = machine.executions[index];
      if (!execution || !matches(execution)) continue;
      executions.push({
        executionArn: execution.arn,
        stateMachineArn: machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: seconds(execution.startMs),
        stopDate: execution.stopMs === undefined ? undefined : seconds(execution.stopMs),
        redriveCount: execution.redriveCount,
        ...(execution.redriveMs === undefined ? {} : { redriveDate: seconds(execution.redriveMs) }),
      });
    }
    while (index >= 0 && !matches(machine.executions[index] as Execution)) index--;
    return index >= 0 ? { executions, nextToken: String(index) } : { executions };
  }

  private getExecutionHistory(input: Input) {
    const execution = this.executionFor(input);
    try {
      return historyPage(execution.history.events, {
        maxResults: pageSize(input),
        reverseOrder: input.reverseOrder === true,
        nextToken: optionalString(input, 'nextToken'),
        includeExecutionData: input.includeExecutionData !== false,
      });
    } catch {
      throw new AwsServiceError('InvalidToken', 'Invalid Token');
    }
  }

  private async stopExecution(input: Input) {
    const execution = this.executionFor(input);
    const error = optionalString(input, 'error');
    const cause = optionalString(input, 'cause');
    if (!execution.settled && !execution.stop) {
      execution.stop = { error, cause };
      execution.abort();
    }
    await execution.done;
    return { stopDate: seconds(execution.stopMs ?? Date.now()) };
  }

  private sendTaskSuccess(input: Input) {
    const output = parseJson(requiredString(input, 'output'), 'InvalidOutput', 'Output');
    this.registry.succeed(input.taskToken, output);
    return {};
  }

  private sendTaskFailure(input: Input) {
    const error = namedError(optionalString(input, 'error') ?? '', optionalString(input, 'cause') ?? '');
    this.registry.fail(input.taskToken, error);
    return {};
  }

  private sendTaskHeartbeat(input: Input) {
    this.registry.heartbeat(input.taskToken);
    return {};
  }

  /** Stops whatever still runs, without status change events: the process is shutting down. */
  async shutdown(): Promise<void> {
    const running = [...this.executions.values()].filter((execution) => !execution.settled && !execution.stop);
    for (const execution of running) {
      execution.stop = { silent: true };
      execution.abort();
    }
    await Promise.all(running.map((execution) => execution.done));
  }
}

export async function startStepFunctionsService(options: StepFunctionsServiceOptions): Promise<StepFunctionsService> {
  const service = new LocalStepFunctions(options, await interpreterTimeoutError());
  const server = await startAwsJsonServer({
    targetPrefix: 'AWSStepFunctions',
    jsonVersion: '1.0',
    operations: service.operations(),
    host: options.host,
    port: options.port,
  });
  return {
    endpoint: server.endpoint,
    port: server.port,
    stateMachineArns: service.machineArns,
    close: async () => {
      await service.shutdown();
      await server.close();
    },
  };
}
