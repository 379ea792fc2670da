import {
  DescribeEventBusCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  ResourceNotFoundException,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type EventBridgeService,
  type EventEnvelope,
  type LocalRule,
  type RuleTarget,
  ratePeriodMs,
  startEventBridgeService,
} from '../../local/eventbridge/service.ts';

const region = 'eu-west-1';
const accountId = '123456789012';
const bus = 'sales-orders';
const busArn = `arn:aws:events:${region}:${accountId}:event-bus/${bus}`;

const rules: LocalRule[] = [
  {
    name: 'order-placed',
    eventBusName: bus,
    eventPattern: { source: ['sales.orders'], 'detail-type': ['OrderPlaced'] },
    targets: [{ id: 'notify', arn: `arn:aws:lambda:${region}:${accountId}:function:notify` }],
  },
  {
    name: 'big-orders',
    eventBusName: bus,
    eventPattern: { source: ['sales.orders'], detail: { total: [{ numeric: ['>=', 1000] }] } },
    targets: [{ id: 'review', arn: `arn:aws:lambda:${region}:${accountId}:function:review` }],
  },
  {
    name: 'failing',
    eventBusName: bus,
    eventPattern: { 'detail-type': ['Explode'] },
    targets: [{ id: 'boom', arn: `arn:aws:lambda:${region}:${accountId}:function:boom` }],
  },
];

type Delivery = { target: RuleTarget; event: EventEnvelope; rule: string };

describe('local EventBridge service', () => {
  let service: EventBridgeService;
  let client: EventBridgeClient;
  const deliveries: Delivery[] = [];

  beforeAll(async () => {
    service = await startEventBridgeService({
      region,
      accountId,
      buses: [bus],
      rules,
      deliver: async (target, event, rule) => {
        if (target.id === 'boom') throw new Error('target failed');
        // Yield first: PutEvents must not wait for this.
        await new Promise((resolve) => setTimeout(resolve, 20));
        deliveries.push({ target, event, rule: rule.name });
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

  const orderPlaced = (total: number, extra: Record<string, unknown> = {}) => ({
    Source: 'sales.orders',
    DetailType: 'OrderPlaced',
    Detail: JSON.stringify({ orderId: 'o-1', total }),
    EventBusName: bus,
    ...extra,
  });

  it('delivers to matching targets asynchronously, with the AWS envelope', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [orderPlaced(50, { Resources: ['arn:x'], Time: new Date('2026-01-02T03:04:05.678Z') })],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    const eventId = result.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(deliveries).toHaveLength(0);

    await service.drain();
    expect(deliveries.map((d) => d.rule)).toEqual(['order-placed']);
    expect(deliveries[0]?.target.id).toBe('notify');
    expect(deliveries[0]?.event).toEqual({
      version: '0',
      id: eventId,
      'detail-type': 'OrderPlaced',
      source: 'sales.orders',
      account: accountId,
      time: '2026-01-02T03:04:05Z',
      region,
      resources: ['arn:x'],
      detail: { orderId: 'o-1', total: 50 },
    });
  });

  it('delivers one event to every matching rule, and accepts the bus ARN', async () => {
    await client.send(new PutEventsCommand({ Entries: [orderPlaced(5000, { EventBusName: busArn })] }));
    await service.drain();
    expect(deliveries.map((d) => d.rule).sort()).toEqual(['big-orders', 'order-placed']);
  });

  it('does not deliver events that match no rule or go to another bus', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'sales.orders', DetailType: 'OrderCancelled', Detail: '{"total":1}', EventBusName: bus },
          { Source: 'sales.orders', DetailType: 'OrderPlaced', Detail: '{"total":1}' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(0);
    await service.drain();
    expect(deliveries).toEqual([]);
  });

  it('reports per-entry errors like PutEvents', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          { DetailType: 'OrderPlaced', Detail: '{}', EventBusName: bus },
          { Source: 'sales.orders', Detail: '{}', EventBusName: bus },
          { Source: 'sales.orders', DetailType: 'OrderPlaced', EventBusName: bus },
          { Source: 'sales.orders', DetailType: 'OrderPlaced', Detail: '{not json', EventBusName: bus },
          { Source: 'sales.orders', DetailType: 'OrderPlaced', Detail: '[1,2]', EventBusName: bus },
          { Source: 'sales.orders', DetailType: 'OrderPlaced', Detail: '{}', EventBusName: 'nope' },
          orderPlaced(1),
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(6);
    expect(result.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual([
      'InvalidArgument',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
      'MalformedDetail',
      'ResourceNotFoundException',
      'ok',
    ]);
    expect(result.Entries?.[0]?.ErrorMessage).toMatch(/Source/);
    expect(result.Entries?.[5]?.ErrorMessage).toBe('Event bus nope does not exist.');
    expect(result.Entries?.[6]?.EventId).toBeTruthy();
    await service.drain();
    expect(deliveries).toHaveLength(1);
  });

  it('rejects more than 10 entries as a whole', async () => {
    const entries = Array.from({ length: 11 }, () => orderPlaced(1));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
  });

  it('logs delivery failures without failing PutEvents', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const result = await client.send(
        new PutEventsCommand({ Entries: [{ Source: 'x', DetailType: 'Explode', Detail: '{}', EventBusName: bus }] }),
      );
      expect(result.FailedEntryCount).toBe(0);
      await service.drain();
      expect(errors).toHaveBeenCalledOnce();
      expect(String(errors.mock.calls[0]?.[0])).toMatch(/boom/);
    } finally {
      errors.mockRestore();
    }
  });

  it('publishes in-process with the same semantics and keeps recent events', async () => {
    const result = await service.putEvents([orderPlaced(2000), { Source: 'sales.orders' }]);
    expect(result.FailedEntryCount).toBe(1);
    await service.drain();
    expect(deliveries.map((d) => d.rule).sort()).toEqual(['big-orders', 'order-placed']);
    const last = service.recentEvents().at(-1);
    expect(last?.id).toBe((result.Entries[0] as { EventId: string }).EventId);

    const page = await fetch(`${service.endpoint}/events`);
    expect(page.status).toBe(200);
    const events = (await page.json()) as EventEnvelope[];
    expect(events.at(-1)?.id).toBe(last?.id);
  });

  it('answers TestEventPattern', async () => {
    const event = JSON.stringify({
      id: '1',
      account: accountId,
      source: 'sales.orders',
      time: '2026-01-01T00:00:00Z',
      region,
      resources: [],
      'detail-type': 'OrderPlaced',
      detail: { total: 10 },
    });
    const yes = await client.send(
      new TestEventPatternCommand({ EventPattern: '{"detail":{"total":[{"numeric":["<",100]}]}}', Event: event }),
    );
    expect(yes.Result).toBe(true);
    const no = await client.send(new TestEventPatternCommand({ EventPattern: '{"source":["other"]}', Event: event }));
    expect(no.Result).toBe(false);
    await expect(
      client.send(new TestEventPatternCommand({ EventPattern: '{"source":"sales.orders"}', Event: event })),
    ).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
    await expect(client.send(new TestEventPatternCommand({ EventPattern: '{', Event: event }))).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
    });
  });

  it('describes and lists buses, rules and targets', async () => {
    const described = await client.send(new DescribeEventBusCommand({ Name: bus }));
    expect(described).toMatchObject({ Name: bus, Arn: busArn });
    const byDefault = await client.send(new DescribeEventBusCommand({}));
    expect(byDefault.Name).toBe('default');
    await expect(client.send(new DescribeEventBusCommand({ Name: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );

    const listed = await client.send(new ListEventBusesCommand({}));
    expect(listed.EventBuses?.map((b) => b.Name)).toEqual(['default', bus]);

    const ruleList = await client.send(new ListRulesCommand({ EventBusName: bus, NamePrefix: 'order' }));
    expect(ruleList.Rules).toEqual([
      {
        Name: 'order-placed',
        Arn: `arn:aws:events:${region}:${accountId}:rule/${bus}/order-placed`,
        EventPattern: JSON.stringify(rules[0]?.eventPattern),
        State: 'ENABLED',
        EventBusName: bus,
      },
    ]);
    const paged = await client.send(new ListRulesCommand({ EventBusName: bus, Limit: 2 }));
    expect(paged.Rules).toHaveLength(2);
    const rest = await client.send(new ListRulesCommand({ EventBusName: bus, Limit: 2, NextToken: paged.NextToken }));
    expect(rest.Rules?.map((r) => r.Name)).toEqual(['failing']);
    await expect(client.send(new ListRulesCommand({ EventBusName: 'nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );

    const targets = await client.send(new ListTargetsByRuleCommand({ Rule: 'big-orders', EventBusName: bus }));
    expect(targets.Targets).toEqual([{ Id: 'review', Arn: rules[1]?.targets[0]?.arn }]);
  });

  it('refuses to start with an invalid rule', async () => {
    await expect(
      startEventBridgeService({
        region,
        accountId,
        buses: [],
        rules: [{ name: 'bad', eventBusName: 'default', eventPattern: { source: 'x' }, targets: [] }],
        deliver: async () => {},
      }),
    ).rejects.toThrow(/source/);
  });

  it('runs schedule rules: rate(...) as EventBridge reads it, a "Scheduled Event" from aws.events to the targets only', async () => {
    expect(ratePeriodMs('rate(5 minutes)')).toBe(300_000);
    expect(ratePeriodMs('rate(1 hour)')).toBe(3_600_000);
    expect(ratePeriodMs('rate(2 days)')).toBe(172_800_000);
    expect(() => ratePeriodMs('rate(1 minutes)')).toThrow(/not valid/);
    expect(() => ratePeriodMs('rate(5 minute)')).toThrow(/not valid/);
    expect(() => ratePeriodMs('cron(0 12 * * ? *)')).toThrow(/only rate/);

    const delivered: { rule: string; event: EventEnvelope }[] = [];
    const scheduled = await startEventBridgeService({
      region,
      accountId,
      buses: [],
      rules: [
        {
          name: 'sweep',
          eventBusName: 'default',
          scheduleExpression: 'rate(1 minute)',
          targets: [{ id: 'a', arn: 'fn' }],
        },
        {
          name: 'anything',
          eventBusName: 'default',
          eventPattern: { source: ['aws.events'] },
          targets: [{ id: 'b', arn: 'fn2' }],
        },
      ],
      deliver: async (_target, event, rule) => {
        delivered.push({ rule: rule.name, event });
      },
    });
    try {
      scheduled.fireSchedule('sweep');
      await scheduled.drain();
      // Delivered to the schedule rule's targets, not matched against the patterns of others.
      expect(delivered.map((d) => d.rule)).toEqual(['sweep']);
      expect(delivered[0]?.event).toMatchObject({
        version: '0',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: accountId,
        region,
        resources: [`arn:aws:events:${region}:${accountId}:rule/sweep`],
        detail: {},
      });
      expect(() => scheduled.fireSchedule('anything')).toThrow(/No schedule rule/);
    } finally {
      await scheduled.close();
    }
    await expect(
      startEventBridgeService({
        region,
        accountId,
        buses: [],
        rules: [{ name: 'both', eventBusName: 'default', targets: [] }],
        deliver: async () => {},
      }),
    ).rejects.toThrow(/exactly one/);
  });
});
