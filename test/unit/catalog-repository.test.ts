import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StockLedger } from '../../functions/adapters/catalog-repository.ts';
import { OutOfStock, StockContention } from '../../functions/core/errors.ts';

const documents = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const repository = new StockLedger('Products', 'Orders');
const lines = [
  { sku: 'A', quantity: 2 },
  { sku: 'B', quantity: 5 },
];
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => documents.reset());

describe('StockLedger.reserve', () => {
  it('writes the reservation and a conditional decrement per line in ONE transaction', async () => {
    documents.on(TransactWriteCommand).resolves({});
    await repository.reserve('ord-1', lines, new Date('2026-11-28T10:00:00Z'));
    const calls = documents.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(1);
    const items = calls[0]?.args[0].input.TransactItems ?? [];
    expect(items).toHaveLength(3);
    expect(items[0]?.Put?.ConditionExpression).toBe('attribute_not_exists(orderId)');
    expect(items[1]?.Update).toMatchObject({
      TableName: 'Products',
      Key: { sku: 'A' },
      ConditionExpression: 'attribute_exists(sku) AND available >= :q',
      ExpressionAttributeValues: { ':q': 2 },
    });
  });

  it('names the short lines when DynamoDB refuses the transaction', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled('None', 'None', 'ConditionalCheckFailed'));
    documents.on(BatchGetCommand).resolves({ Responses: { Products: [{ sku: 'B', available: 3 }] } });
    const error = await repository.reserve('ord-1', lines, new Date()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutOfStock);
    expect((error as OutOfStock).lines).toEqual([{ sku: 'B', requested: 5, available: 3 }]);
  });

  it('treats an existing reservation for the order as done (a retried task)', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));
    await expect(repository.reserve('ord-1', lines, new Date())).resolves.toBeUndefined();
  });

  it('turns a transaction conflict into StockContention, which the workflow retries', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict', 'None'));
    await expect(repository.reserve('ord-1', lines, new Date())).rejects.toBeInstanceOf(StockContention);
  });
});

describe('StockLedger.release', () => {
  it('gives held stock back and marks the reservation RELEASED (kept, so a retry knows)', async () => {
    documents.on(GetCommand).resolves({ Item: { orderId: 'ord-1', sk: 'RESERVATION', status: 'HELD', lines } });
    documents.on(TransactWriteCommand).resolves({});
    await expect(repository.release('ord-1')).resolves.toBe('released');
    const items = documents.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    // The reservation's next state, on the condition that it is still the one read (its version).
    expect(items[0]?.Put?.Item).toEqual(expect.objectContaining({ status: 'RELEASED', lines: [], version: 1 }));
    expect(items[0]?.Put?.ConditionExpression).toBe('attribute_exists(orderId) AND attribute_not_exists(version)');
    expect(items[2]?.Update?.UpdateExpression).toBe('SET available = available + :q, reserved = reserved - :q');
  });

  it('says a reservation was already released, and leaves shipped stock unless its shipment was cancelled', async () => {
    const shipped = { A1: lines };
    documents
      .on(GetCommand)
      .resolvesOnce({ Item: { status: 'RELEASED', lines } })
      .resolvesOnce({ Item: { status: 'SHIPPED', lines: [], shipped, version: 2 } })
      .resolvesOnce({ Item: { status: 'SHIPPED', lines: [], shipped, version: 2 } });
    documents.on(TransactWriteCommand).resolves({});
    await expect(repository.release('ord-1')).resolves.toBe('already-released');
    await expect(repository.release('ord-1')).resolves.toBe('shipped');
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    await expect(repository.release('ord-1', { restock: ['A1'] })).resolves.toBe('released');
    const items = documents.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items[0]?.Put?.Item).toEqual(expect.objectContaining({ restocked: { A1: true }, version: 3 }));
    expect(items[1]?.Update?.UpdateExpression).toBe('SET available = available + :q');
  });

  it('leaves a RELEASED marker for an order that never reserved, so a late reservation takes nothing', async () => {
    documents.on(GetCommand).resolves({});
    documents.on(PutCommand).resolves({});
    await expect(repository.release('ord-1')).resolves.toBe('none');
    expect(documents.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      Item: { orderId: 'ord-1', sk: 'RESERVATION', status: 'RELEASED' },
      ConditionExpression: 'attribute_not_exists(orderId)',
    });
  });
});
