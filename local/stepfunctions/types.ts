import type { TaskTimeoutOverride } from './definition.ts';

/**
 * Invokes a Lambda function locally. Rejects with an Error whose `name` is the Lambda errorType
 * and whose `message` is the AWS-style Cause JSON (`{"errorType","errorMessage","trace"}`), so
 * that Retry/Catch match errorType and the caught Cause is the JSON string, exactly like AWS.
 */
export interface LambdaInvoker {
  /** `onStart`: called when the invocation gets an execution environment (it may wait for one first). */
  invoke(functionArn: string, payload: unknown, onStart?: () => void): Promise<unknown>;
}

export interface StatusChangeEvent {
  source: 'aws.states';
  detailType: 'Step Functions Execution Status Change';
  detail: Record<string, unknown>;
  resources: string[];
}

/** Receives "Step Functions Execution Status Change" events (as EventBridge would). */
export type StatusChangeSink = (event: StatusChangeEvent) => Promise<void> | void;

export interface LocalStateMachine {
  name: string;
  /** ASL JSON text with deployment placeholders already substituted. */
  definition: string;
  roleArn?: string;
}

export interface StepFunctionsServiceOptions {
  host?: string;
  /** 0 or omitted picks a free port. */
  port?: number;
  region: string;
  accountId: string;
  stateMachines: LocalStateMachine[];
  lambda: LambdaInvoker;
  onStatusChange?: StatusChangeSink;
  /** Retry wait in ms by state name (a number, or one per retrier), instead of IntervalSeconds/backoff. */
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** Wait state duration in ms by state name. */
  waitTimeOverrides?: Record<string, number>;
  /** Replaces TimeoutSeconds / HeartbeatSeconds of Task states, by state name, in ms. */
  taskTimeoutOverrides?: Record<string, TaskTimeoutOverride>;
  /** Replaces the state machines' top-level TimeoutSeconds, in ms (a test knob: executions then end TIMED_OUT). */
  executionTimeoutOverrideMs?: number;
}

export interface StepFunctionsService {
  endpoint: string;
  port: number;
  /** State machine ARN by state machine name. */
  stateMachineArns: Record<string, string>;
  /** Stops running executions (without status change events) and the HTTP server. */
  close(): Promise<void>;
}

export type { TaskTimeoutOverride };
