import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeEventBusCommand } from '@aws-sdk/client-eventbridge';
import { GetAccountCommand } from '@aws-sdk/client-sesv2';
import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { dynamo } from './clients/dynamodb.ts';
import { eventBridge } from './clients/eventbridge.ts';
import { s3Send } from './clients/s3.ts';
import { ses } from './clients/ses.ts';
import { sfn } from './clients/sfn.ts';

export interface Dependencies {
  ordersTable: string;
  stateMachineArn: string;
  bucket: string;
  eventBus: string;
}

/** One cheap read-only call per dependency the order flow needs. */
export function dependencyChecks(deps: Dependencies): Record<string, () => Promise<unknown>> {
  return {
    dynamodb: () => dynamo().send(new DescribeTableCommand({ TableName: deps.ordersTable })),
    stepfunctions: () => sfn().send(new DescribeStateMachineCommand({ stateMachineArn: deps.stateMachineArn })),
    s3: () => s3Send({ method: 'HEAD', bucket: deps.bucket }),
    eventbridge: () => eventBridge().send(new DescribeEventBusCommand({ Name: deps.eventBus })),
    ses: () => ses().send(new GetAccountCommand({})),
  };
}
