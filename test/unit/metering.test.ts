import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemWrites, UsageMeter } from '../../local/metering.ts';

/** A stand-in DynamoDB: answers with ConsumedCapacity only when asked, as DynamoDB does. */
let upstream: Server;
let target: string;
const received: Record<string, unknown>[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      received.push(input);
      const op = String(req.headers['x-amz-target']).split('.')[1];
      const answer: Record<string, unknown> = op === 'TransactWriteItems' ? {} : { Item: { pk: { S: '1' } }, Count: 1 };
      if (input.ReturnConsumedCapacity === 'TOTAL') {
        answer.ConsumedCapacity =
          op === 'TransactWriteItems'
            ? [
                { TableName: 'Orders', CapacityUnits: 4 },
                { TableName: 'Stock', CapacityUnits: 2 },
              ]
            : { TableName: 'Orders', CapacityUnits: 0.5 };
      }
      const body = Buffer.from(JSON.stringify(answer));
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': String(crc32(body)) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', () => resolve()));
  target = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

const call = (endpoint: string, op: string, input: Record<string, unknown>) =>
  fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${op}` },
    body: JSON.stringify(input),
  });

describe('usage metering at the emulator boundary', () => {
  it('asks DynamoDB for the consumed capacity, sums it, and answers the caller as if it had not', async () => {
    const meter = new UsageMeter();
    try {
      const endpoint = await meter.proxy('dynamodb', target);
      const response = await call(endpoint, 'GetItem', { TableName: 'Orders', Key: { pk: { S: '1' } } });
      const body = Buffer.from(await response.arrayBuffer());
      expect(received.at(-1)?.ReturnConsumedCapacity).toBe('TOTAL');
      expect(JSON.parse(body.toString('utf8'))).toEqual({ Item: { pk: { S: '1' } }, Count: 1 });
      // The SDK checks this checksum: it must match the answer as changed.
      expect(response.headers.get('x-amz-crc32')).toBe(String(crc32(body)));

      await call(endpoint, 'TransactWriteItems', { TransactItems: [] });
      const usage = meter.snapshot();
      expect(usage.dynamodb).toMatchObject({ readUnits: 0.5, writeUnits: 6 });
      expect(usage.dynamodb.byTable).toEqual({
        Orders: { readUnits: 0.5, writeUnits: 4 },
        Stock: { readUnits: 0, writeUnits: 2 },
      });
      expect(usage.requests.dynamodb).toEqual({ GetItem: 1, TransactWriteItems: 1 });
      expect(usage.dynamodb.itemWrites).toBe(0);

      meter.reset();
      expect(meter.snapshot().dynamodb.writeUnits).toBe(0);
    } finally {
      await meter.close();
    }
  });

  it('leaves a caller that asked for the capacity its answer', async () => {
    const meter = new UsageMeter();
    try {
      const endpoint = await meter.proxy('dynamodb', target);
      const response = await call(endpoint, 'GetItem', { TableName: 'Orders', ReturnConsumedCapacity: 'TOTAL' });
      expect(((await response.json()) as Record<string, unknown>).ConsumedCapacity).toEqual({
        TableName: 'Orders',
        CapacityUnits: 0.5,
      });
      expect(meter.snapshot().dynamodb.readUnits).toBe(0.5);
    } finally {
      await meter.close();
    }
  });
});

describe('item writes of a DynamoDB write request', () => {
  it('counts one per single-item write, per Put/Update/Delete of a transaction and per batch request', () => {
    expect(itemWrites('PutItem', {})).toBe(1);
    expect(itemWrites('UpdateItem', {})).toBe(1);
    expect(itemWrites('DeleteItem', {})).toBe(1);
    expect(itemWrites('GetItem', {})).toBe(0);
    expect(
      itemWrites('TransactWriteItems', {
        TransactItems: [{ Put: {} }, { Update: {} }, { ConditionCheck: {} }, { Delete: {} }],
      }),
    ).toBe(3);
    expect(itemWrites('BatchWriteItem', { RequestItems: { A: [{}, {}], B: [{}] } })).toBe(3);
  });
});
