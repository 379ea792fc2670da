import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { sfn } from './clients.ts';

/** Starts order workflows. The execution name is the order id, so a start is idempotent. */
export class WorkflowStarter {
  constructor(private readonly stateMachineArn: string) {}

  async start(orderId: string): Promise<void> {
    try {
      await sfn().send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: orderId,
          input: JSON.stringify({ orderId }),
        }),
      );
    } catch (error) {
      // Same name: this order's workflow has already been started.
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
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
