import { readdirSync } from 'node:fs';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { logger } from '../../functions/lib/powertools.ts';

// No call reaches AWS: each invocation below only has to get through the handler's middlewares.
mockClient(DynamoDBClient);
mockClient(DynamoDBDocumentClient);
mockClient(SFNClient);
mockClient(SESv2Client);
mockClient(EventBridgeClient);
mockClient(SecretsManagerClient);
mockClient(CognitoIdentityProviderClient);

// Before any import: the logger reads its level when it is created; AWS_EXECUTION_ENV says this is a
// Lambda execution environment, as in AWS.
vi.hoisted(() =>
  Object.assign(process.env, {
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    AWS_REGION: 'us-east-1',
    ORDERS_TABLE_NAME: 'Orders',
    PRODUCTS_TABLE_NAME: 'Products',
    STOCK_TABLE_NAME: 'Stock',
    CUSTOMERS_TABLE_NAME: 'Customers',
    INVOICES_TABLE_NAME: 'Invoices',
    APPROVALS_TABLE_NAME: 'Approvals',
    IDEMPOTENCY_TABLE_NAME: 'Idempotency',
    KPI_TABLE_NAME: 'Kpis',
    EVENT_BUS_NAME: 'Bus',
    STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:orders',
    DOCUMENTS_BUCKET_NAME: 'documents',
    INBOUND_EMAIL_BUCKET_NAME: 'inbox',
    CARRIER_WEBHOOK_SECRET_ID: 'carrier-secret',
    CRM_WEBHOOK_SECRET_ID: 'crm-secret',
    APPROVAL_LINK_SECRET_ID: 'approval-secret',
    FEEDBACK_SECRET_ID: 'feedback-secret',
    SENDER_EMAIL: 'orders@example.com',
    FINANCE_EMAIL: 'finance@example.com',
    APPROVERS_EMAIL: 'approvers@example.com',
    PUBLIC_API_URL: 'https://api.example.com',
  }),
);

const functionNames = readdirSync(new URL('../../functions', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(`${entry.parentPath}/${entry.name}`).includes('handler.ts'))
  .map((entry) => entry.name)
  .sort();

const context = (name: string) =>
  ({
    functionName: name,
    awsRequestId: `request-of-${name}`,
    getRemainingTimeInMillis: () => 10_000,
  }) as unknown as Context;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('every function handler', () => {
  it('is found', () => {
    expect(functionNames.length).toBeGreaterThanOrEqual(38);
    expect(functionNames).toContain('get-order');
  });

  it.each(functionNames)('%s runs with the Lambda context in its logs and its keys reset after', async (name) => {
    const { handler } = (await import(`../../functions/${name}/handler.ts`)) as {
      handler: (event: unknown, context: Context) => Promise<unknown>;
    };
    const addContext = vi.spyOn(logger, 'addContext');
    const resetKeys = vi.spyOn(logger, 'resetKeys');

    // Whatever the handler makes of an empty event (an answer or an error), the wrappers run around it.
    await handler({}, context(name)).catch(() => undefined);

    expect(addContext, 'logger context').toHaveBeenCalledWith(expect.objectContaining({ functionName: name }));
    expect(resetKeys, 'keys reset after the invocation').toHaveBeenCalled();
  });
});
