import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type LambdaInvoker,
  type StatusChangeEvent,
  type StepFunctionsService,
  startStepFunctionsService,
} from '../../local/stepfunctions/service.ts';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** A Lambda failure as the local invoker reports it: name = errorType, message = Cause JSON. */
function lambdaError(errorType: string, errorMessage: string): Error {
  const error = new Error(JSON.stringify({ errorType, errorMessage, trace: [] }));
  error.name = errorType;
  return error;
}

/** Callback tokens handed to the `capture` function, by order id. */
class TokenInbox {
  private readonly waiting = new Map<string, (token: string) => void>();
  private readonly received = new Map<string, string>();

  deliver(orderId: string, token: string): void {
    const waiter = this.waiting.get(orderId);
    if (waiter) waiter(token);
    else this.received.set(orderId, token);
  }

  /** Drops a token already handed out, so `next` waits for the following one. */
  forget(orderId: string): void {
    this.received.delete(orderId);
  }

  next(orderId: string): Promise<string> {
    const token = this.received.get(orderId);
    if (token) return Promise.resolve(token);
    return new Promise((resolve) => this.waiting.set(orderId, resolve));
  }
}

const inbox = new TokenInbox();
const calls: { arn: string; payload: unknown }[] = [];
let flakyFailures = 0;
/** The cause a redrive test fixes between the failure and the redrive. */
let broken = true;
const shipping = { now: 0, most: 0 };

const lambda: LambdaInvoker = {
  async invoke(arn, payload, onStart) {
    calls.push({ arn, payload });
    const name = arn.split(':')[6];
    const event = payload as Record<string, string>;
    // `queued` waits 300 ms for an execution environment, then runs 50 ms; the others start at once.
    if (name !== 'queued') onStart?.();
    switch (name) {
      case 'queued':
        await new Promise((resolve) => setTimeout(resolve, 300));
        onStart?.();
        await new Promise((resolve) => setTimeout(resolve, 50));
        return { ran: 'after waiting' };
      case 'slowrun':
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { ran: 'too long' };
      case 'echo':
        return { echoed: payload };
      case 'broken':
        if (broken) throw lambdaError('DependencyDown', `cannot book ${event.orderId}`);
        return { booked: event.orderId };
      case 'decline':
        throw lambdaError('PaymentDeclined', `card declined for ${event.orderId}`);
      case 'flaky':
        if (flakyFailures-- > 0) throw lambdaError('Transient', 'try again');
        return { ok: true };
      case 'capture':
        inbox.deliver(event.orderId ?? '', event.token ?? '');
        return null;
      case 'ship': {
        // One shipment at a time is what MaxConcurrency 1 promises: counted while each call is in flight.
        shipping.now++;
        shipping.most = Math.max(shipping.most, shipping.now);
        await new Promise((resolve) => setTimeout(resolve, 20));
        shipping.now--;
        if (event.allocationId === 'LOST') throw lambdaError('ShipmentLost', `parcel of ${event.orderId} lost`);
        return { shipmentId: `${event.orderId}-${event.allocationId}` };
      }
      default:
        throw lambdaError('ResourceNotFoundException', `Function not found: ${arn}`);
    }
  },
};

const task = (name: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: functionArn(name), 'Payload.$': '$' },
  ...extra,
});

const callback = (extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
  Parameters: {
    FunctionName: 'capture',
    Payload: { 'orderId.$': '$.orderId', 'token.$': '$$.Task.Token', 'execution.$': '$$.Execution.Id' },
  },
  ...extra,
});

const machines: Record<string, object> = {
  Echo: { StartAt: 'Invoke', States: { Invoke: task('echo', { End: true }) } },
  Queued: {
    StartAt: 'WaitForEnvironment',
    States: { WaitForEnvironment: task('queued', { TimeoutSeconds: 1, End: true }) },
  },
  SlowRun: { StartAt: 'RunLong', States: { RunLong: task('slowrun', { TimeoutSeconds: 1, End: true }) } },
  Declined: {
    StartAt: 'Charge',
    States: {
      Charge: task('decline', {
        Catch: [{ ErrorEquals: ['PaymentDeclined'], ResultPath: '$.failure', Next: 'Refund' }],
        Next: 'Done',
      }),
      Refund: { Type: 'Pass', End: true },
      Done: { Type: 'Succeed' },
    },
  },
  Flaky: {
    StartAt: 'Reserve',
    States: {
      Reserve: {
        Type: 'Task',
        Resource: functionArn('flaky'),
        Retry: [{ ErrorEquals: ['Transient'], IntervalSeconds: 30, MaxAttempts: 3 }],
        End: true,
      },
    },
  },
  Rejecting: {
    StartAt: 'InStock',
    States: {
      InStock: { Type: 'Choice', Choices: [{ Variable: '$.qty', NumericLessThan: 10, Next: 'Ok' }], Default: 'Reject' },
      Ok: { Type: 'Succeed' },
      Reject: { Type: 'Fail', Error: 'OrderRejected', Cause: 'Out of stock' },
    },
  },
  // Redrive: the first state succeeds once, the second fails until its cause is fixed.
  Redrivable: {
    StartAt: 'Prepare',
    States: {
      Prepare: task('echo', {
        ResultSelector: { 'prepared.$': '$.Payload.echoed.orderId' },
        ResultPath: '$.prep',
        Next: 'Book',
      }),
      Book: task('broken', { InputPath: '$', ResultPath: '$.booking', End: true }),
    },
  },
  RedrivableWait: {
    StartAt: 'AwaitRedrivable',
    States: { AwaitRedrivable: callback({ End: true }) },
  },
  Approval: {
    StartAt: 'AwaitApproval',
    States: { AwaitApproval: callback({ TimeoutSeconds: 3600, HeartbeatSeconds: 600, End: true }) },
  },
  ApprovalTimeout: {
    StartAt: 'AwaitQuickApproval',
    States: {
      // States.TaskFailed must not match States.Timeout, as on AWS.
      AwaitQuickApproval: callback({
        TimeoutSeconds: 3600,
        Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Caught' }],
        End: true,
      }),
      Caught: { Type: 'Pass', End: true },
    },
  },
  ApprovalHeartbeat: {
    StartAt: 'AwaitPing',
    States: { AwaitPing: callback({ HeartbeatSeconds: 60, End: true }) },
  },
  // The Map features the order workflow's FulfilShipments uses: items from a path, each item's input
  // built from the parent's input and the item ($$.Map.Item.Value), one iteration at a time, the
  // results under ResultPath, and an iteration's Fail (ErrorPath/CausePath) caught on the Map.
  Shipments: {
    StartAt: 'FulfilShipments',
    States: {
      FulfilShipments: {
        Type: 'Map',
        ItemsPath: '$.stock.allocations',
        ItemSelector: { 'orderId.$': '$.orderId', 'allocationId.$': '$$.Map.Item.Value.allocationId' },
        MaxConcurrency: 1,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'Ship',
          States: {
            Ship: task('ship', {
              ResultSelector: { 'shipmentId.$': '$.Payload.shipmentId' },
              ResultPath: '$.shipment',
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotShipped' }],
              End: true,
            }),
            NotShipped: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
          },
        },
        ResultPath: '$.shipments',
        Catch: [{ ErrorEquals: ['ShipmentLost'], ResultPath: '$.error', Next: 'Compensate' }],
        Next: 'Complete',
      },
      Complete: { Type: 'Succeed' },
      Compensate: { Type: 'Pass', End: true },
    },
  },
  Fanout: {
    StartAt: 'EachItem',
    States: {
      EachItem: {
        Type: 'Map',
        ItemsPath: '$.items',
        ItemProcessor: {
          StartAt: 'EchoItem',
          States: { EchoItem: task('echo', { OutputPath: '$.Payload', End: true }) },
        },
        ResultPath: '$.mapped',
        Next: 'Both',
      },
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'Left', States: { Left: { Type: 'Pass', Result: 'left', End: true } } },
          {
            StartAt: 'Right',
            States: { Right: { Type: 'Task', Resource: functionArn('echo'), End: true } },
          },
        ],
        ResultPath: '$.branches',
        End: true,
      },
    },
  },
};

let service: StepFunctionsService;
let sfn: SFNClient;
const statusEvents: StatusChangeEvent[] = [];
const arnOf = (machine: string) => service.stateMachineArns[machine] ?? '';

beforeAll(async () => {
  service = await startStepFunctionsService({
    region: REGION,
    accountId: ACCOUNT,
    stateMachines: Object.entries(machines).map(([name, definition]) => ({
      name,
      definition: JSON.stringify(definition),
    })),
    lambda,
    onStatusChange: (event) => {
      statusEvents.push(event);
    },
    retryIntervalOverrides: { Reserve: 0 },
    taskTimeoutOverrides: {
      AwaitQuickApproval: { timeoutMs: 100 },
      AwaitPing: { heartbeatMs: 150 },
      WaitForEnvironment: { timeoutMs: 200 },
      RunLong: { timeoutMs: 200 },
    },
  });
  sfn = new SFNClient({
    endpoint: service.endpoint,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  sfn?.destroy();
  await service?.close();
});

async function start(machine: string, input: unknown, name?: string): Promise<string> {
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: arnOf(machine), input: JSON.stringify(input), name }),
  );
  return started.executionArn ?? '';
}

async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING' || Date.now() > deadline) return execution;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const outputOf = (execution: DescribeExecutionCommandOutput) => JSON.parse(execution.output ?? 'null');

describe('local Step Functions service', () => {
  it('lists and describes the configured state machines', async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((machine) => machine.name)).toEqual(Object.keys(machines));
    expect(arnOf('Echo')).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:Echo`);
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arnOf('Echo') }));
    expect(described).toMatchObject({ name: 'Echo', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition ?? '')).toEqual(machines.Echo);
    await expect(
      sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arnOf('Echo').replace('Echo', 'Nope') })),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it('returns the lambda:invoke result shape', async () => {
    const arn = await start('Echo', { orderId: 'o-1' }, 'happy-1');
    expect(arn).toBe(`arn:aws:states:${REGION}:${ACCOUNT}:execution:Echo:happy-1`);
    const execution = await finished(arn);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', name: 'happy-1', stateMachineArn: arnOf('Echo') });
    expect(execution.startDate).toBeInstanceOf(Date);
    expect(execution.stopDate).toBeInstanceOf(Date);
    expect(JSON.parse(execution.input ?? '')).toEqual({ orderId: 'o-1' });
    const output = outputOf(execution);
    expect(output).toMatchObject({
      ExecutedVersion: '$LATEST',
      Payload: { echoed: { orderId: 'o-1' } },
      StatusCode: 200,
      SdkHttpMetadata: { HttpStatusCode: 200 },
    });
    expect(output.SdkResponseMetadata.RequestId).toEqual(expect.any(String));
    expect(calls.find((call) => call.arn === functionArn('echo'))?.payload).toEqual({ orderId: 'o-1' });
  });

  it('catches a named Lambda error with the AWS Cause JSON', async () => {
    const execution = await finished(await start('Declined', { orderId: 'o-2' }));
    expect(execution.status).toBe('SUCCEEDED');
    const { failure } = outputOf(execution);
    expect(failure.Error).toBe('PaymentDeclined');
    expect(JSON.parse(failure.Cause)).toEqual({
      errorType: 'PaymentDeclined',
      errorMessage: 'card declined for o-2',
      trace: [],
    });
  });

  it('retries and then succeeds; a plain function ARN returns the result as is', async () => {
    flakyFailures = 2;
    const arn = await start('Flaky', {});
    const execution = await finished(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(outputOf(execution)).toEqual({ ok: true });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events.filter((event) => event.type === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(events.filter((event) => event.type === 'LambdaFunctionSucceeded')).toHaveLength(1);
  });

  it('reports a Fail state as FAILED with its error and cause', async () => {
    const execution = await finished(await start('Rejecting', { qty: 50 }));
    expect(execution).toMatchObject({ status: 'FAILED', error: 'OrderRejected', cause: 'Out of stock' });
    expect(execution.output).toBeUndefined();
  });

  it('walks Map and Parallel states', async () => {
    const execution = await finished(await start('Fanout', { items: [1, 2] }));
    expect(execution.status).toBe('SUCCEEDED');
    const output = outputOf(execution);
    expect(output.mapped).toEqual([{ echoed: 1 }, { echoed: 2 }]);
    expect(output.branches).toEqual(['left', { echoed: { items: [1, 2], mapped: output.mapped } }]);
  });

  it('runs a Map over items at a path with ItemSelector, MaxConcurrency and ResultPath', async () => {
    shipping.most = 0;
    const allocations = ['A1', 'A2', 'A3'].map((allocationId) => ({ allocationId, warehouseId: 'WH-BERLIN' }));
    const execution = await finished(await start('Shipments', { orderId: 'split-1', stock: { allocations } }));
    expect(execution.status).toBe('SUCCEEDED');
    const output = outputOf(execution);
    // Each iteration saw only what ItemSelector gave it, and returned its own state.
    expect(output.shipments).toEqual(
      ['A1', 'A2', 'A3'].map((allocationId) => ({
        orderId: 'split-1',
        allocationId,
        shipment: { shipmentId: `split-1-${allocationId}` },
      })),
    );
    expect(output.stock).toEqual({ allocations });
    expect(shipping.most).toBe(1);
    const shipped = calls.filter((call) => call.arn === functionArn('ship')).map((call) => call.payload);
    expect(shipped).toContainEqual({ orderId: 'split-1', allocationId: 'A2' });
  });

  it('catches an iteration that failed on the Map, with its error and cause', async () => {
    const allocations = [{ allocationId: 'A1' }, { allocationId: 'LOST' }];
    const arn = await start('Shipments', { orderId: 'split-2', stock: { allocations } });
    const execution = await finished(arn);
    expect(execution.status).toBe('SUCCEEDED');
    const output = outputOf(execution);
    expect(output.shipments).toBeUndefined();
    expect(output.error.Error).toBe('ShipmentLost');
    expect(output.error.Cause).toContain('parcel of split-2 lost');
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events.map((event) => event.type)).toContain('MapStateFailed');
  });

  it('resumes a waitForTaskToken task with SendTaskSuccess', async () => {
    const arn = await start('Approval', { orderId: 'approve-1' });
    const token = await inbox.next('approve-1');
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    const invoked = calls.find((call) => (call.payload as { orderId?: string }).orderId === 'approve-1');
    expect(invoked?.arn).toBe(functionArn('capture'));
    expect(invoked?.payload).toMatchObject({ execution: arn });
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }));
    const execution = await finished(arn);
    expect(execution.status).toBe('SUCCEEDED');
    expect(outputOf(execution)).toEqual({ approved: true });
    // The task is closed: AWS answers TaskTimedOut; a token it never issued is InvalidToken.
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    await expect(sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidToken',
    });
  });

  it('fails a waitForTaskToken task with SendTaskFailure', async () => {
    const arn = await start('Approval', { orderId: 'approve-2' });
    const token = await inbox.next('approve-2');
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: 'not json' }))).rejects.toMatchObject({
      name: 'InvalidOutput',
    });
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'ApprovalRejected', cause: 'too expensive' }));
    const execution = await finished(arn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ApprovalRejected', cause: 'too expensive' });
  });

  it("counts a Lambda task's TimeoutSeconds from when its invocation gets an environment, not while it waits for one", async () => {
    // 300 ms waiting for an environment, 50 ms running, against a 200 ms timeout: the wait is the emulator's.
    const queued = await finished(await start('Queued', { orderId: 'q-1' }));
    expect(queued).toMatchObject({ status: 'SUCCEEDED' });
    expect(outputOf(queued)).toMatchObject({ Payload: { ran: 'after waiting' } });
    // 300 ms running against the same timeout: States.Timeout.
    expect(await finished(await start('SlowRun', { orderId: 's-1' }))).toMatchObject({
      status: 'FAILED',
      error: 'States.Timeout',
    });
  });

  it('times out a waitForTaskToken task with States.Timeout, which States.TaskFailed does not catch', async () => {
    const arn = await start('ApprovalTimeout', { orderId: 'late-1' });
    const token = await inbox.next('late-1');
    const execution = await finished(arn);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events.map((event) => event.type)).toContain('TaskTimedOut');
  });

  it('fails with States.HeartbeatTimeout without heartbeats and stays alive with them', async () => {
    const silent = await start('ApprovalHeartbeat', { orderId: 'silent-1' });
    const beating = await start('ApprovalHeartbeat', { orderId: 'beating-1' });
    const token = await inbox.next('beating-1');
    for (let beat = 0; beat < 6; beat++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    }
    expect(await finished(silent)).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: beating }))).status).toBe('RUNNING');
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '"done"' }));
    const execution = await finished(beating);
    expect(execution.status).toBe('SUCCEEDED');
    expect(outputOf(execution)).toBe('done');
  });

  it('applies the AWS rules for execution names and inputs', async () => {
    const stateMachineArn = arnOf('Approval');
    const input = JSON.stringify({ orderId: 'dup-1' });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-1', input }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-1', input }));
    expect(again).toMatchObject({ executionArn: first.executionArn, startDate: first.startDate });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-1', input: '{"orderId":"other"}' })),
    ).rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: await inbox.next('dup-1'), output: '{}' }));
    await finished(first.executionArn ?? '');
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'dup-1', input }))).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
    });
    for (const name of ['has space', 'a/b', 'x'.repeat(81), '']) {
      await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, name, input }))).rejects.toMatchObject({
        name: 'InvalidName',
      });
    }
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{nope' }))).rejects.toMatchObject({
      name: 'InvalidExecutionInput',
    });
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: `${stateMachineArn}Missing`, input })),
    ).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(
      sfn.send(new DescribeExecutionCommand({ executionArn: `${first.executionArn}-missing` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
    const unnamed = await sfn.send(new StartExecutionCommand({ stateMachineArn: arnOf('Echo') }));
    expect(unnamed.executionArn).toMatch(/:execution:Echo:[0-9a-f-]{36}$/);
  });

  it('stops a running execution', async () => {
    const arn = await start('Approval', { orderId: 'stop-1' });
    const token = await inbox.next('stop-1');
    const stopped = await sfn.send(
      new StopExecutionCommand({ executionArn: arn, error: 'Cancelled', cause: 'customer cancelled' }),
    );
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'customer cancelled' });
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }))).rejects.toMatchObject({
      name: 'TaskTimedOut',
    });
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true }));
    expect(events[0]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Cancelled', cause: 'customer cancelled' },
    });
  });

  it('lists executions newest first, filtered by status and paginated', async () => {
    const stateMachineArn = arnOf('Rejecting');
    const names = ['list-1', 'list-2', 'list-3'];
    for (const [index, name] of names.entries()) await finished(await start('Rejecting', { qty: index }, name));
    await finished(await start('Rejecting', { qty: 99 }, 'list-failed'));
    const succeeded = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED' }));
    expect(succeeded.executions?.map((execution) => execution.name)).toEqual(['list-3', 'list-2', 'list-1']);
    const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'FAILED' }));
    expect(failed.executions?.[0]).toMatchObject({ name: 'list-failed', status: 'FAILED' });
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'SUCCEEDED', maxResults: 2 }),
    );
    expect(page.executions?.map((execution) => execution.name)).toEqual(['list-3', 'list-2']);
    const rest = await sfn.send(
      new ListExecutionsCommand({
        stateMachineArn,
        statusFilter: 'SUCCEEDED',
        maxResults: 2,
        nextToken: page.nextToken,
      }),
    );
    expect(rest.executions?.map((execution) => execution.name)).toEqual(['list-1']);
    expect(rest.nextToken).toBeUndefined();
  });

  it('returns an AWS-shaped execution history', async () => {
    const arn = await start('Echo', { orderId: 'history-1' });
    await finished(arn);
    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events[1]).toMatchObject({ previousEventId: 1, stateEnteredEventDetails: { name: 'Invoke' } });
    expect(events[0]?.timestamp).toBeInstanceOf(Date);
    expect(events[2]?.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: REGION,
    });
    expect(JSON.parse(events[2]?.taskScheduledEventDetails?.parameters ?? '')).toMatchObject({
      Payload: { orderId: 'history-1' },
    });
    expect(JSON.parse(events[6]?.executionSucceededEventDetails?.output ?? '')).toMatchObject({ StatusCode: 200 });
    const reversed = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: arn,
        reverseOrder: true,
        maxResults: 3,
        includeExecutionData: false,
      }),
    );
    expect(reversed.events?.map((event) => event.id)).toEqual([7, 6, 5]);
    expect(reversed.events?.[0]?.executionSucceededEventDetails?.output).toBeUndefined();
    const next = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, nextToken: reversed.nextToken }),
    );
    expect(next.events?.map((event) => event.id)).toEqual([4, 3, 2, 1]);
  });

  it('emits Execution Status Change events', async () => {
    const arn = await start('Rejecting', { qty: 100 }, 'events-1');
    await finished(arn);
    const mine = statusEvents.filter((event) => event.detail.executionArn === arn);
    expect(mine.map((event) => event.detail.status)).toEqual(['RUNNING', 'FAILED']);
    expect(mine[1]).toMatchObject({
      source: 'aws.states',
      detailType: 'Step Functions Execution Status Change',
      resources: [arn],
      detail: {
        stateMachineArn: arnOf('Rejecting'),
        name: 'events-1',
        input: '{"qty":100}',
        output: null,
        error: 'OrderRejected',
        cause: 'Out of stock',
        stopDate: expect.any(Number),
        startDate: expect.any(Number),
      },
    });
    const statuses = new Set(statusEvents.map((event) => event.detail.status));
    expect([...statuses].sort()).toEqual(['ABORTED', 'FAILED', 'RUNNING', 'SUCCEEDED']);
  });

  it('runs hundreds of executions concurrently', async () => {
    const started = Date.now();
    const arns = await Promise.all(Array.from({ length: 250 }, (_, index) => start('Echo', { index })));
    const executions = await Promise.all(arns.map((arn) => finished(arn)));
    expect(executions.every((execution) => execution.status === 'SUCCEEDED')).toBe(true);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('start-up checks', () => {
  const options = (definition: object) => ({
    region: REGION,
    accountId: ACCOUNT,
    lambda,
    stateMachines: [{ name: 'Broken', definition: JSON.stringify(definition) }],
  });

  it('rejects Task resources the local runtime cannot serve, naming the state', async () => {
    const definition = {
      StartAt: 'SaveOrder',
      States: {
        SaveOrder: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:putItem',
          Parameters: { TableName: 'orders', Item: {} },
          End: true,
        },
      },
    };
    await expect(startStepFunctionsService(options(definition))).rejects.toThrow(/"SaveOrder".*dynamodb:putItem/);
  });

  it('rejects state names used twice, nested states included', async () => {
    const definition = {
      StartAt: 'Work',
      States: {
        Work: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'Step', States: { Step: task('echo', { End: true }) } }],
          Next: 'Step',
        },
        Step: task('echo', { End: true }),
      },
    };
    await expect(startStepFunctionsService(options(definition))).rejects.toThrow(/"Step" is used more than once/);
  });
});

describe('local Step Functions: execution timeout', () => {
  it('ends an execution past its TimeoutSeconds TIMED_OUT (States.Timeout), with the status change event AWS emits', async () => {
    const events: StatusChangeEvent[] = [];
    const timed = await startStepFunctionsService({
      region: REGION,
      accountId: ACCOUNT,
      stateMachines: [
        {
          name: 'Slow',
          definition: JSON.stringify({
            StartAt: 'Wait',
            TimeoutSeconds: 3600,
            States: { Wait: callback({ End: true }) },
          }),
        },
      ],
      lambda,
      onStatusChange: (event) => {
        events.push(event);
      },
      executionTimeoutOverrideMs: 300,
    });
    const client = new SFNClient({
      endpoint: timed.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const { executionArn } = await client.send(
        new StartExecutionCommand({
          stateMachineArn: timed.stateMachineArns.Slow,
          name: 'slow-1',
          input: JSON.stringify({ orderId: 'slow-1' }),
        }),
      );
      let status = 'RUNNING';
      for (let i = 0; i < 50 && status === 'RUNNING'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await client.send(new DescribeExecutionCommand({ executionArn }))).status ?? '';
      }
      expect(status).toBe('TIMED_OUT');
      const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));
      expect(history.events?.at(-1)?.type).toBe('ExecutionTimedOut');
      expect(events.map((event) => event.detail.status)).toEqual(['RUNNING', 'TIMED_OUT']);
      expect(events[1]).toMatchObject({
        source: 'aws.states',
        detailType: 'Step Functions Execution Status Change',
        detail: { name: 'slow-1', status: 'TIMED_OUT', error: 'States.Timeout', stopDate: expect.any(Number) },
      });
    } finally {
      client.destroy();
      await timed.close();
    }
  });
});

describe('RedriveExecution', () => {
  it('restarts a FAILED execution at the failed state with its input, once the cause is fixed', async () => {
    broken = true;
    const arn = await start('Redrivable', { orderId: 'ord-redrive-1' }, 'ord-redrive-1');
    const failed = await finished(arn);
    expect(failed).toMatchObject({ status: 'FAILED', error: 'DependencyDown', redriveCount: 0 });
    expect(failed.redriveStatus).toBe('REDRIVABLE');
    const prepared = calls.filter(
      (c) => c.arn === functionArn('echo') && JSON.stringify(c.payload).includes('ord-redrive-1'),
    );
    expect(prepared).toHaveLength(1);

    broken = false;
    const before = Date.now() / 1000;
    const { redriveDate } = await sfn.send(new RedriveExecutionCommand({ executionArn: arn }));
    expect(redriveDate?.getTime()).toBeGreaterThanOrEqual(Math.floor(before) * 1000);
    const done = await finished(arn);
    expect(done.status).toBe('SUCCEEDED');
    // The state that succeeded is not run again; the failed one gets the input it had.
    expect(
      calls.filter((c) => c.arn === functionArn('echo') && JSON.stringify(c.payload).includes('ord-redrive-1')),
    ).toHaveLength(1);
    expect(JSON.parse(done.output ?? '{}')).toEqual({
      orderId: 'ord-redrive-1',
      prep: { prepared: 'ord-redrive-1' },
      booking: expect.objectContaining({ Payload: { booked: 'ord-redrive-1' } }),
    });
    expect(done).toMatchObject({ redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(done.redriveStatusReason).toBe('Execution is SUCCEEDED and cannot be redriven');
    expect(done.redriveDate).toBeInstanceOf(Date);

    const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn: arn }));
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'ExecutionFailed')).toHaveLength(1);
    const redriven = events.find((e) => e.type === 'ExecutionRedriven');
    expect(redriven?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    const afterRedrive = types.slice(types.indexOf('ExecutionRedriven'));
    expect(afterRedrive).toEqual(expect.arrayContaining(['TaskStateEntered', 'TaskSucceeded', 'ExecutionSucceeded']));
    expect(afterRedrive.at(-1)).toBe('ExecutionSucceeded');
    const entered = events.filter((e) => e.type === 'TaskStateEntered').map((e) => e.stateEnteredEventDetails?.name);
    expect(entered).toEqual(['Prepare', 'Book', 'Book']);

    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arnOf('Redrivable') }));
    expect(listed.executions?.find((e) => e.executionArn === arn)?.redriveCount).toBe(1);
  });

  it('refuses a RUNNING or SUCCEEDED execution with ExecutionNotRedrivable', async () => {
    const succeeded = await start('Echo', { orderId: 'ord-redrive-2' });
    await finished(succeeded);
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn: succeeded }))).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: 'Execution is SUCCEEDED and cannot be redriven',
    });
    const running = await start('RedrivableWait', { orderId: 'ord-redrive-3' });
    await expect(sfn.send(new RedriveExecutionCommand({ executionArn: running }))).rejects.toMatchObject({
      name: 'ExecutionNotRedrivable',
      message: 'Execution is RUNNING and cannot be redriven',
    });
    await sfn.send(new StopExecutionCommand({ executionArn: running }));
    await expect(
      sfn.send(new RedriveExecutionCommand({ executionArn: `${running.replace(/:[^:]+$/, ':nope')}` })),
    ).rejects.toMatchObject({ name: 'ExecutionDoesNotExist' });
  });

  it('redrives an ABORTED execution into the state it was stopped in, with a new task token', async () => {
    const arn = await start('RedrivableWait', { orderId: 'ord-redrive-4' });
    const first = await inbox.next('ord-redrive-4');
    inbox.forget('ord-redrive-4');
    await sfn.send(new StopExecutionCommand({ executionArn: arn, error: 'Ops', cause: 'stopped by hand' }));
    expect(await finished(arn)).toMatchObject({ status: 'ABORTED', redriveStatus: 'REDRIVABLE' });
    statusEvents.length = 0;
    const token = 'redrive-once';
    const once = await sfn.send(new RedriveExecutionCommand({ executionArn: arn, clientToken: token }));
    // The same request again (a retried call) is answered, not repeated.
    const again = await sfn.send(new RedriveExecutionCommand({ executionArn: arn, clientToken: token }));
    expect(again.redriveDate).toEqual(once.redriveDate);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status).toBe('RUNNING');
    expect(statusEvents.map((e) => [e.detail.status, e.detail.redriveCount])).toEqual([['RUNNING', 1]]);
    const second = await inbox.next('ord-redrive-4');
    expect(second).not.toBe(first);
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: first, output: '{}' }))).rejects.toMatchObject({
      name: expect.stringMatching(/TaskTimedOut|InvalidToken/),
    });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: second, output: '{"ok":true}' }));
    expect(await finished(arn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  });
});
