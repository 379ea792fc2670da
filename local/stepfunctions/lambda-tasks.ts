import { randomBytes, randomUUID } from 'node:crypto';
import { CARRIED_TIMEOUT_KEY, type TaskSpec, type TaskTimeoutOverride } from './definition.ts';
import { type EventDetails, type ExecutionHistory, type TaskAttempt, toJsonText } from './history.ts';
import { namedError, PendingTask, type TaskTokenRegistry } from './task-tokens.ts';
import type { LambdaInvoker } from './types.ts';

/**
 * Runs the Lambda-backed Task states: `lambda:invoke`, `lambda:invoke.waitForTaskToken` and a
 * plain function ARN, with AWS result shapes, timeouts, heartbeats and history events.
 */

export interface TaskRunContext {
  lambda: LambdaInvoker;
  region: string;
  accountId: string;
  executionArn: string;
  history: ExecutionHistory;
  registry: TaskTokenRegistry;
  /** Builds the error the interpreter treats as its own States.Timeout. */
  timeoutError: () => Error;
  /** The token issued for `$$.Task.Token` while this state's input was built, if any. */
  takeIssuedToken(): string | undefined;
  /** Lets the execution release the task when it stops. */
  track(task: PendingTask): void;
  isRunning(): boolean;
}

interface InvokeParameters {
  functionArn: string;
  payload: unknown;
  asynchronous: boolean;
}

/** An error that Retry and Catch must ignore (the interpreter reads these two flags). */
export function fatalError(name: string, message: string): Error {
  return Object.assign(namedError(name, message), { isRetryable: false, isCatchable: false });
}

/** Expands a FunctionName (name, name:alias, partial or full ARN) to a function ARN. */
export function functionArnOf(functionName: string, region: string, accountId: string, qualifier?: string): string {
  let arn = functionName;
  if (/^\d{12}:function:/.test(functionName)) arn = `arn:aws:lambda:${region}:${functionName}`;
  else if (!functionName.startsWith('arn:')) arn = `arn:aws:lambda:${region}:${accountId}:function:${functionName}`;
  const qualified = arn.split(':').length > 7;
  return qualifier && !qualified ? `${arn}:${qualifier}` : arn;
}

function readInvokeParameters(input: unknown, region: string, accountId: string): InvokeParameters {
  const params = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof params.FunctionName !== 'string' || params.FunctionName === '') {
    throw fatalError('States.Runtime', 'lambda:invoke requires a FunctionName parameter');
  }
  const qualifier = typeof params.Qualifier === 'string' ? params.Qualifier : undefined;
  return {
    functionArn: functionArnOf(params.FunctionName, region, accountId, qualifier),
    // Lambda receives {} when Payload is omitted.
    payload: params.Payload === undefined ? {} : params.Payload,
    asynchronous: params.InvocationType === 'Event',
  };
}

/** The result of the lambda:invoke integration, as AWS returns it. */
export function lambdaInvokeResult(payload: unknown, statusCode = 200): Record<string, unknown> {
  const requestId = randomUUID();
  const headers: Record<string, string> = {
    Connection: 'keep-alive',
    'Content-Length': String(Buffer.byteLength(toJsonText(payload))),
    'Content-Type': 'application/json',
    Date: new Date().toUTCString(),
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-Remapped-Content-Length': '0',
    'x-amzn-RequestId': requestId,
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
  };
  const allHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload ?? null,
    SdkHttpMetadata: { AllHttpHeaders: allHeaders, HttpHeaders: headers, HttpStatusCode: statusCode },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: statusCode,
  };
}

/** Invokes through the lambda:invoke integration; an Event invocation is fire-and-forget (202). */
async function invokeIntegration(
  ctx: TaskRunContext,
  params: InvokeParameters,
  onStart?: () => void,
): Promise<Record<string, unknown>> {
  if (params.asynchronous) {
    ctx.lambda.invoke(params.functionArn, params.payload).catch(() => undefined);
    onStart?.();
    return lambdaInvokeResult('', 202);
  }
  return lambdaInvokeResult(await ctx.lambda.invoke(params.functionArn, params.payload, onStart));
}

function isTimeout(error: Error): boolean {
  return error.name === 'States.Timeout' || error.name === 'States.HeartbeatTimeout';
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : namedError('Error', String(error));
}

/** Writes the attempt's closing event once the task settles. */
function recordOutcome(attempt: TaskAttempt, task: PendingTask): void {
  const successType = `${attempt.family}Succeeded`;
  task.promise.then(
    (output) =>
      attempt.end(successType, {
        ...attempt.resource,
        output: toJsonText(output),
        outputDetails: { truncated: false },
      }),
    (raw: unknown) => {
      const error = toError(raw);
      const outcome = isTimeout(error) ? 'TimedOut' : 'Failed';
      attempt.end(`${attempt.family}${outcome}`, { ...attempt.resource, error: error.name, cause: error.message });
    },
  );
}

function limits(spec: TaskSpec, override: TaskTimeoutOverride | undefined) {
  const toMs = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
  return {
    timeoutMs: override?.timeoutMs ?? toMs(spec.timeoutSeconds),
    heartbeatMs: override?.heartbeatMs ?? toMs(spec.heartbeatSeconds),
  };
}

function scheduledDetails(spec: TaskSpec, heartbeats: boolean): EventDetails {
  const details: EventDetails = {};
  if (spec.timeoutSeconds !== undefined) details.timeoutInSeconds = spec.timeoutSeconds;
  if (heartbeats && spec.heartbeatSeconds !== undefined) details.heartbeatInSeconds = spec.heartbeatSeconds;
  return details;
}

/**
 * `timeoutFromBegin`: a Lambda invocation's TimeoutSeconds counts from when it gets an execution
 * environment. Locally an invocation beyond a function's environments waits for one; in AWS Lambda
 * would refuse it (throttling, retried by the SDK), so the wait is the emulator's, not the task's.
 */
function startTask(
  ctx: TaskRunContext,
  attempt: TaskAttempt,
  options: { timeoutMs?: number; heartbeatMs?: number; timeoutFromBegin?: boolean },
) {
  const task = new PendingTask({ ...options, timeoutError: ctx.timeoutError });
  ctx.track(task);
  recordOutcome(attempt, task);
  return task;
}

function runLambdaFunction(
  ctx: TaskRunContext,
  spec: TaskSpec,
  override: TaskTimeoutOverride | undefined,
  input: unknown,
) {
  const attempt = ctx.history.startAttempt(spec.stateName, 'LambdaFunction', {});
  attempt.record('LambdaFunctionScheduled', {
    resource: spec.resource,
    input: toJsonText(input),
    inputDetails: { truncated: false },
    ...scheduledDetails(spec, false),
  });
  attempt.record('LambdaFunctionStarted');
  const task = startTask(ctx, attempt, { timeoutMs: limits(spec, override).timeoutMs, timeoutFromBegin: true });
  ctx.lambda
    .invoke(spec.resource, input, () => task.begin())
    .then(
      (result) => task.resolve(result ?? null),
      (error: unknown) => task.reject(toError(error)),
    );
  return task.promise;
}

const lambdaResource = (callback: boolean) => ({
  resourceType: 'lambda',
  resource: callback ? 'invoke.waitForTaskToken' : 'invoke',
});

/** Records TaskScheduled and TaskStarted of a lambda:invoke[.waitForTaskToken] attempt. */
function beginLambdaAttempt(ctx: TaskRunContext, spec: TaskSpec, input: unknown, callback: boolean) {
  const resource = lambdaResource(callback);
  const attempt = ctx.history.startAttempt(spec.stateName, 'Task', resource);
  attempt.record('TaskScheduled', {
    ...resource,
    region: ctx.region,
    parameters: toJsonText(input),
    ...scheduledDetails(spec, callback),
  });
  attempt.record('TaskStarted', resource);
  return attempt;
}

function runLambdaInvoke(
  ctx: TaskRunContext,
  spec: TaskSpec,
  override: TaskTimeoutOverride | undefined,
  input: unknown,
) {
  const params = readInvokeParameters(input, ctx.region, ctx.accountId);
  const attempt = beginLambdaAttempt(ctx, spec, input, false);
  const task = startTask(ctx, attempt, { timeoutMs: limits(spec, override).timeoutMs, timeoutFromBegin: true });
  invokeIntegration(ctx, params, () => task.begin()).then(
    (result) => task.resolve(result),
    (error: unknown) => task.reject(toError(error)),
  );
  return task.promise;
}

/**
 * The state's result is whatever SendTaskSuccess delivers; the Lambda's own response only
 * matters if the invocation fails, which fails the task like on AWS.
 */
function runLambdaCallback(
  ctx: TaskRunContext,
  spec: TaskSpec,
  override: TaskTimeoutOverride | undefined,
  input: unknown,
  token: string,
) {
  const params = readInvokeParameters(input, ctx.region, ctx.accountId);
  const attempt = beginLambdaAttempt(ctx, spec, input, true);
  const task = startTask(ctx, attempt, limits(spec, override));
  ctx.registry.attach(token, task);
  invokeIntegration(ctx, params).then(
    (result) =>
      attempt.record('TaskSubmitted', {
        ...lambdaResource(true),
        output: toJsonText(result),
        outputDetails: { truncated: false },
      }),
    (error: unknown) => task.reject(toError(error)),
  );
  return task.promise;
}

/** The local handler the interpreter calls for one Task state (input is already processed). */
/** The task input as AWS builds it: without the TimeoutSecondsPath value carried for the interpreter. */
function withoutCarriedTimeout(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !(CARRIED_TIMEOUT_KEY in input))
    return input;
  const { [CARRIED_TIMEOUT_KEY]: _carried, ...rest } = input as Record<string, unknown>;
  return rest;
}

export async function runTask(
  ctx: TaskRunContext,
  spec: TaskSpec,
  override: TaskTimeoutOverride | undefined,
  processed: unknown,
): Promise<unknown> {
  // Read first, so a token issued for a non-callback state never leaks into the next one.
  const issued = ctx.takeIssuedToken();
  const input = withoutCarriedTimeout(processed);
  // A stopped execution's interpreter may still reach a Task; it must not call Lambda again.
  if (!ctx.isRunning()) throw fatalError('States.Runtime', 'Execution is no longer running');
  switch (spec.kind) {
    case 'lambda-function':
      return runLambdaFunction(ctx, spec, override, input);
    case 'lambda-invoke':
      return runLambdaInvoke(ctx, spec, override, input);
    case 'lambda-invoke-callback':
      return runLambdaCallback(ctx, spec, override, input, issued ?? ctx.registry.issue(ctx.executionArn));
  }
}
