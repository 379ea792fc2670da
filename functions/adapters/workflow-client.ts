import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfn } from './clients/sfn.ts';

/** An execution with the order's name exists but is not this order's workflow. */
export class ExecutionMismatch extends Error {
  override name = 'ExecutionMismatch';
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** Starts and inspects order workflows. The execution name is the order id, so a start is idempotent. */
export class WorkflowStarter {
  constructor(private readonly stateMachineArn: string) {}

  executionArn(orderId: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
  }

  async start(orderId: string): Promise<void> {
    const input = { orderId };
    try {
      await sfn().send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: orderId,
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      // Same name: normally this order's workflow, started by an earlier attempt. Check it is.
      const existing = await sfn().send(new DescribeExecutionCommand({ executionArn: this.executionArn(orderId) }));
      let startedFor: unknown;
      try {
        startedFor = (JSON.parse(existing.input ?? '{}') as { orderId?: unknown }).orderId;
      } catch {
        startedFor = undefined;
      }
      if (startedFor !== orderId)
        throw new ExecutionMismatch(`Execution ${orderId} exists but was not started for this order`, {
          cause: error,
        });
    }
  }

  /** The status of the order's execution; undefined when none was ever started. */
  async status(orderId: string): Promise<ExecutionStatus | undefined> {
    try {
      const execution = await sfn().send(new DescribeExecutionCommand({ executionArn: this.executionArn(orderId) }));
      return execution.status as ExecutionStatus;
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return undefined;
      throw error;
    }
  }
}

/** Resumes a waiting task: the token alone identifies the execution and state. */
export class TaskTokens {
  async succeed(taskToken: string, output: Record<string, unknown>): Promise<void> {
    await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    await sfn().send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }

  async heartbeat(taskToken: string): Promise<void> {
    await sfn().send(new SendTaskHeartbeatCommand({ taskToken }));
  }
}
