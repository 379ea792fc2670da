import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { redactPersonalData } from '../../functions/core/redact.ts';
import { lambdaContext } from '../support/lambda-events.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);

Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  ORDERS_TABLE_NAME: 'Orders',
  PRODUCTS_TABLE_NAME: 'Products',
  STOCK_TABLE_NAME: 'Stock',
  CUSTOMERS_TABLE_NAME: 'Customers',
  EVENT_BUS_NAME: 'Bus',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
});
const context = lambdaContext;
let voidPayment: (event: unknown, context: Context) => Promise<unknown>;

beforeAll(async () => {
  voidPayment = (await import('../../functions/void-payment/handler.ts')).handler as never;
});

describe('personal data in errors', () => {
  it('redacts e-mail addresses', () => {
    expect(redactPersonalData('Email address is not verified: jane.doe+1@example.co.uk, ops@shop.de')).toBe(
      'Email address is not verified: [e-mail], [e-mail]',
    );
  });

  it('keeps a task error’s name (for Retry/Catch) but no e-mail address in what reaches the execution history', async () => {
    const leaky = Object.assign(new Error('Email address is not verified: jane.doe@example.com'), {
      name: 'MessageRejected',
    });
    documents.on(QueryCommand).rejects(leaky);
    const error = (await voidPayment({ orderId: 'ord-01jd0000000000000000000000' }, context).catch((e) => e)) as Error;
    expect(error.name).toBe('MessageRejected');
    expect(error.message).toBe('Email address is not verified: [e-mail]');
    expect(error.stack).not.toContain('jane.doe@example.com');
  });
});
