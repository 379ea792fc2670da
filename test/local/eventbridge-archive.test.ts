import {
  CancelReplayCommand,
  CreateArchiveCommand,
  DeleteArchiveCommand,
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListReplaysCommand,
  PutEventsCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type EventBridgeService,
  type EventEnvelope,
  startEventBridgeService,
} from '../../local/eventbridge/service.ts';

const region = 'eu-west-1';
const accountId = '123456789012';
const bus = 'orders';
const busArn = `arn:aws:events:${region}:${accountId}:event-bus/${bus}`;
const archiveArn = (name: string) => `arn:aws:events:${region}:${accountId}:archive/${name}`;
const ruleArn = (name: string) => `arn:aws:events:${region}:${accountId}:rule/${bus}/${name}`;

describe('local EventBridge archives and replays', () => {
  let service: EventBridgeService;
  let client: EventBridgeClient;
  const deliveries: { rule: string; event: EventEnvelope }[] = [];

  beforeAll(async () => {
    service = await startEventBridgeService({
      region,
      accountId,
      buses: [bus],
      rules: [
        {
          name: 'kpi',
          eventBusName: bus,
          eventPattern: { source: ['sales.orders'] },
          targets: [{ id: 'k', arn: 'k' }],
        },
        {
          name: 'shipped',
          eventBusName: bus,
          eventPattern: { 'detail-type': ['OrderShipped'] },
          targets: [{ id: 's', arn: 's' }],
        },
      ],
      archives: [
        {
          name: 'order-events',
          eventSourceArn: busArn,
          eventPattern: { source: ['sales.orders'] },
          description: 'every order event',
          retentionDays: 90,
        },
      ],
      deliver: async (_target, event, rule) => {
        deliveries.push({ rule: rule.name, event });
      },
    });
    client = new EventBridgeClient({
      region,
      endpoint: service.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await service?.close();
  });

  beforeEach(() => {
    deliveries.length = 0;
  });

  const put = (detailType: string, orderId: string, source = 'sales.orders') =>
    client.send(
      new PutEventsCommand({
        Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify({ orderId }), EventBusName: bus }],
      }),
    );

  const replayed = async (name: string) => {
    for (let i = 0; i < 100; i++) {
      const replay = await client.send(new DescribeReplayCommand({ ReplayName: name }));
      if (replay.State === 'COMPLETED' || replay.State === 'FAILED') return replay;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`replay ${name} did not complete`);
  };

  it('has the archive the deployment declares, and manages archives as the API does', async () => {
    const described = await client.send(new DescribeArchiveCommand({ ArchiveName: 'order-events' }));
    expect(described).toMatchObject({
      ArchiveArn: archiveArn('order-events'),
      ArchiveName: 'order-events',
      EventSourceArn: busArn,
      EventPattern: JSON.stringify({ source: ['sales.orders'] }),
      Description: 'every order event',
      State: 'ENABLED',
      RetentionDays: 90,
    });
    await expect(
      client.send(new CreateArchiveCommand({ ArchiveName: 'order-events', EventSourceArn: busArn })),
    ).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    const created = await client.send(new CreateArchiveCommand({ ArchiveName: 'scratch', EventSourceArn: busArn }));
    expect(created).toMatchObject({ ArchiveArn: archiveArn('scratch'), State: 'ENABLED' });
    const listed = await client.send(new ListArchivesCommand({ EventSourceArn: busArn }));
    expect(listed.Archives?.map((a) => a.ArchiveName)).toEqual(['order-events', 'scratch']);
    await client.send(new DeleteArchiveCommand({ ArchiveName: 'scratch' }));
    await expect(client.send(new DescribeArchiveCommand({ ArchiveName: 'scratch' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await expect(
      client.send(
        new CreateArchiveCommand({ ArchiveName: 'elsewhere', EventSourceArn: busArn.replace(/orders$/, 'nope') }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('archives the events matching the pattern and replays a time window to the rules, with replay-name', async () => {
    const before = await client.send(new DescribeArchiveCommand({ ArchiveName: 'order-events' }));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // event times have whole seconds
    const start = new Date(Math.floor(Date.now() / 1000) * 1000);
    await put('OrderReceived', 'o-1');
    await put('OrderShipped', 'o-1');
    await put('OrderShipped', 'x-1', 'other.source'); // not archived: the pattern wants sales.orders
    await service.drain();
    const archived = await client.send(new DescribeArchiveCommand({ ArchiveName: 'order-events' }));
    expect((archived.EventCount ?? 0) - (before.EventCount ?? 0)).toBe(2);
    const original = deliveries.filter((d) => d.event.detail.orderId === 'o-1').map((d) => d.event.id);
    deliveries.length = 0;

    await new Promise((resolve) => setTimeout(resolve, 1000));
    const end = new Date();
    const started = await client.send(
      new StartReplayCommand({
        ReplayName: 'again-1',
        EventSourceArn: archiveArn('order-events'),
        EventStartTime: start,
        EventEndTime: end,
        Destination: { Arn: busArn },
      }),
    );
    expect(started).toMatchObject({
      ReplayArn: `arn:aws:events:${region}:${accountId}:replay/again-1`,
      State: 'STARTING',
    });
    const done = await replayed('again-1');
    expect(done).toMatchObject({ State: 'COMPLETED', EventSourceArn: archiveArn('order-events') });
    expect(done.EventLastReplayedTime).toBeInstanceOf(Date);
    await service.drain();
    // Both events again, to every rule they match, with the same ids and the replay's name.
    expect(deliveries.map((d) => [d.rule, d.event['detail-type'], d.event['replay-name']]).sort()).toEqual([
      ['kpi', 'OrderReceived', 'again-1'],
      ['kpi', 'OrderShipped', 'again-1'],
      ['shipped', 'OrderShipped', 'again-1'],
    ]);
    expect(new Set(deliveries.map((d) => d.event.id))).toEqual(new Set(original));
    // A replayed event is not archived a second time.
    const after = await client.send(new DescribeArchiveCommand({ ArchiveName: 'order-events' }));
    expect(after.EventCount).toBe(archived.EventCount);

    deliveries.length = 0;
    await client.send(
      new StartReplayCommand({
        ReplayName: 'shipped-only',
        EventSourceArn: archiveArn('order-events'),
        EventStartTime: start,
        EventEndTime: end,
        Destination: { Arn: busArn, FilterArns: [ruleArn('shipped')] },
      }),
    );
    await replayed('shipped-only');
    await service.drain();
    expect(deliveries.map((d) => [d.rule, d.event['replay-name']])).toEqual([['shipped', 'shipped-only']]);

    const listed = await client.send(new ListReplaysCommand({ EventSourceArn: archiveArn('order-events') }));
    expect(listed.Replays?.map((r) => [r.ReplayName, r.State])).toEqual([
      ['again-1', 'COMPLETED'],
      ['shipped-only', 'COMPLETED'],
    ]);
    await expect(client.send(new CancelReplayCommand({ ReplayName: 'again-1' }))).rejects.toMatchObject({
      name: 'IllegalStatusException',
    });
  });

  it('refuses a replay into another bus, a window in the future, a name taken and an unknown rule', async () => {
    const base = {
      EventSourceArn: archiveArn('order-events'),
      EventStartTime: new Date(Date.now() - 60_000),
      EventEndTime: new Date(Date.now() - 1000),
    };
    await expect(
      client.send(
        new StartReplayCommand({
          ...base,
          ReplayName: 'cross',
          Destination: { Arn: busArn.replace(/orders$/, 'default') },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/Cross event bus/) });
    await expect(
      client.send(
        new StartReplayCommand({
          ...base,
          ReplayName: 'future',
          EventEndTime: new Date(Date.now() + 3_600_000),
          Destination: { Arn: busArn },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      client.send(
        new StartReplayCommand({
          ...base,
          ReplayName: 'rule',
          Destination: { Arn: busArn, FilterArns: [ruleArn('x')] },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await client.send(new StartReplayCommand({ ...base, ReplayName: 'once', Destination: { Arn: busArn } }));
    await expect(
      client.send(new StartReplayCommand({ ...base, ReplayName: 'once', Destination: { Arn: busArn } })),
    ).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
    await expect(client.send(new DescribeReplayCommand({ ReplayName: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});
