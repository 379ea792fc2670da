import { readFileSync } from 'node:fs';
// @ts-expect-error asl-validator ships no types
import validateAsl from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOrderApp } from '../../infra/build.ts';
import { OrderFunction } from '../../infra/constructs/order-function.ts';
import { WORKFLOW_DEFINITION_FILE, workflowPlaceholders } from '../../infra/workflow-definition.ts';
import { readDeployment } from '../../local/template.ts';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
let template: Template;
let stackName: string;
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

/** All IAM statements attached to the role of the function with the given logical id prefix. */
function statementsOf(functionPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.entries(policies)
    .filter(([id]) => id.startsWith(`${functionPrefix}Role`))
    .flatMap(
      ([, policy]) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
}
const actionsOf = (functionPrefix: string) => statementsOf(functionPrefix).flatMap((s) => [s.Action].flat());

beforeAll(() => {
  const { stack } = buildOrderApp({ context: NO_BUNDLING });
  template = Template.fromStack(stack);
  stackName = stack.stackName;
});

describe('order stack template', () => {
  it('runs a STANDARD state machine with full logging (no execution data) and tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });

  it('substitutes a function for every task placeholder of the definition', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionSubstitutions: Record<string, unknown> };
    }[];
    expect(Object.keys(machine?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual(
      workflowPlaceholders().map((name) => `${name}FunctionArn`),
    );
  });

  it('keeps every table on-demand with point-in-time recovery, and idempotency records expiring', () => {
    const tables = template.findResources('AWS::DynamoDB::GlobalTable');
    expect(Object.keys(tables)).toHaveLength(8);
    for (const table of Object.values(tables) as { Properties: Record<string, any> }[]) {
      expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
      expect(table.Properties.Replicas[0].PointInTimeRecoverySpecification).toEqual({
        PointInTimeRecoveryEnabled: true,
      });
    }
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    });
  });

  it('builds every function on the newest Node runtime, ARM64, traced, with its own log group', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: Record<string, any>;
      Metadata?: Record<string, unknown>;
    }[];
    const ours = functions.filter((f) => f.Metadata?.['sales:entry']);
    expect(ours).toHaveLength(42);
    for (const fn of ours) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.LoggingConfig?.LogGroup).toBeDefined();
    }
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup')) as {
      Properties: { RetentionInDays?: number };
    }[];
    expect(logGroups.every((group) => typeof group.Properties.RetentionInDays === 'number')).toBe(true);
  });

  it('refuses a function whose handler is missing when the stack is built, even without bundling', () => {
    const stack = new Stack(new App({ context: NO_BUNDLING }), 'Missing');
    expect(() => new OrderFunction(stack, 'Core', { stage: 'core', description: 'no handler here' })).toThrow(
      'No function code at functions/core/handler.ts',
    );
    expect(
      () => new OrderFunction(stack, 'Health', { stage: 'health', description: 'has one' }).functionName,
    ).not.toThrow();
  });

  it('grants each function only what it uses', () => {
    // Read-only routes cannot write.
    for (const reader of ['GetOrder', 'ListOrders', 'ListProducts', 'ListCustomers']) {
      const actions = actionsOf(reader);
      expect(actions.some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))).toBe(false);
    }
    // Only the invoice stage sends e-mail, writes PDFs and touches invoice numbers.
    expect(actionsOf('IssueInvoice')).toContain('ses:SendEmail');
    for (const other of ['ValidateOrder', 'ReserveStock', 'PlaceOrder', 'CarrierWebhook']) {
      expect(actionsOf(other)).not.toContain('ses:SendEmail');
      expect(actionsOf(other)).not.toContain('s3:PutObject');
    }
    // Workflow stages update orders but cannot delete them or scan them wholesale.
    for (const stage of [
      'ValidateOrder',
      'ReserveStock',
      'AuthorizePayment',
      'CaptureOrder',
      'IssueInvoice',
      'CarrierWebhook',
    ]) {
      expect(actionsOf(stage)).not.toContain('dynamodb:DeleteItem');
      expect(actionsOf(stage)).not.toContain('dynamodb:BatchWriteItem');
    }
    // The health check may describe the orders table, not read it.
    expect(actionsOf('Health').filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:DescribeTable']);
    // Only the intake starts executions; only the callback side answers task tokens.
    expect(actionsOf('PlaceOrder')).toContain('states:StartExecution');
    expect(actionsOf('ValidateOrder')).not.toContain('states:StartExecution');
    expect(actionsOf('CarrierWebhook')).toEqual(
      expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskHeartbeat']),
    );
    // No wildcard actions anywhere, and '*' resources only for X-Ray.
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: Statement[] } };
    }[]) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        expect(actions.every((a) => !a.endsWith(':*') && a !== '*')).toBe(true);
        if (statement.Resource === '*') {
          expect(actions.every((a) => a.startsWith('xray:') || a.startsWith('logs:') || a === 'ses:GetAccount')).toBe(
            true,
          );
        }
      }
    }
  });

  it('reads a KPI window through the sparse byPlacedDay index, which projects what the percentiles read only', () => {
    const [kpis] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')).filter((table) =>
      JSON.stringify(table).includes('byPlacedDay'),
    ) as { Properties: { GlobalSecondaryIndexes: Record<string, any>[] } }[];
    const [index] = kpis?.Properties.GlobalSecondaryIndexes ?? [];
    expect(index?.KeySchema).toEqual([
      { AttributeName: 'dayShard', KeyType: 'HASH' },
      { AttributeName: 'orderId', KeyType: 'RANGE' },
    ]);
    expect(index?.Projection.ProjectionType).toBe('INCLUDE');
    expect([...(index?.Projection.NonKeyAttributes ?? [])].sort()).toEqual([
      'completedAt',
      'currency',
      'outcome',
      'placedAt',
      'stageTimes',
    ]);
  });

  it('searches orders through sparse indexes that project the summary only, reading the orders table alone', () => {
    const include = (partition: string) =>
      ['status', 'customerId', 'channel', 'externalReference', 'currency', 'totals', 'createdAt', 'updatedAt']
        .filter((attribute) => attribute !== partition)
        .sort();
    const [orders] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')).filter((table) =>
      JSON.stringify(table).includes('byTrackingNumber'),
    ) as { Properties: { GlobalSecondaryIndexes: Record<string, any>[] } }[];
    const indexes = Object.fromEntries(
      (orders?.Properties.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, index]),
    );
    for (const [name, partition] of [
      ['byCustomer', 'customerId'],
      ['byStatus', 'status'],
      ['byDay', 'placedDay'],
    ] as const) {
      expect(indexes[name]?.KeySchema, name).toEqual([
        { AttributeName: partition, KeyType: 'HASH' },
        { AttributeName: 'placedAt', KeyType: 'RANGE' },
      ]);
      expect(indexes[name]?.Projection.ProjectionType, name).toBe('INCLUDE');
      expect([...(indexes[name]?.Projection.NonKeyAttributes ?? [])].sort(), name).toEqual(include(partition));
    }
    const statements = statementsOf('ListOrders').filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('dynamodb:')),
    );
    expect(JSON.stringify(statements.map((s) => s.Resource))).toMatch(/DataOrders/);
    for (const other of [
      'DataProducts',
      'DataStock',
      'DataCustomers',
      'DataInvoices',
      'DataApprovals',
      'DataIdempotency',
    ])
      expect(JSON.stringify(statements.map((s) => s.Resource))).not.toContain(other);
    expect(statements.flatMap((s) => [s.Action].flat())).toContain('dynamodb:Query');
  });

  it('grants the idempotency table to the CRM webhook (its events) and the inbox (its replies), not to the intake', () => {
    const onIdempotency = (fn: string) =>
      statementsOf(fn).filter((st) => JSON.stringify(st.Resource).includes('DataIdempotency'));
    for (const fn of ['CrmWebhook', 'InboundEmail']) expect(onIdempotency(fn).length, fn).toBeGreaterThan(0);
    for (const fn of ['PlaceOrder', 'EnterOrder']) expect(onIdempotency(fn), fn).toEqual([]);
  });

  it('lets every capturing function describe executions, to check a start under a name already taken', () => {
    for (const fn of ['PlaceOrder', 'CrmWebhook', 'EnterOrder', 'InboundEmail', 'ReconcileOrders']) {
      const describe = statementsOf(fn).filter((s) => [s.Action].flat().includes('states:DescribeExecution'));
      expect(describe.length, fn).toBe(1);
      expect(JSON.stringify(describe[0]?.Resource), fn).toMatch(/:execution:/);
      expect(actionsOf(fn), fn).toContain('states:StartExecution');
    }
  });

  it('sends the survey on OrderDelivered and lets only its sender and routes read the survey secret', () => {
    const sender = Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^RequestFeedback'), 'Arn'] });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^EventsBus') },
      EventPattern: { source: ['sales.orders'], 'detail-type': ['OrderDelivered'] },
      Targets: [Match.objectLike({ Arn: sender })],
    });
    const secret = Object.keys(template.findResources('AWS::SecretsManager::Secret')).find((id) =>
      id.startsWith('FeedbackTokenSecret'),
    );
    expect(secret).toBeDefined();
    const readers = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([, policy]) => JSON.stringify(policy).includes(`"Ref":"${secret}"`))
      .map(([id]) => id.replace(/Role.*$/, ''))
      .sort();
    expect(readers).toEqual(['FeedbackForm', 'RecordFeedback', 'RequestFeedback']);
    // The public routes touch the order item alone (no query, scan or index): the page reads it and
    // publishes an answer left unpublished; the answer is written and published, never e-mailed.
    const orderItemActions = (fn: string) =>
      statementsOf(fn)
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')))
        .map((s) => ({ actions: [s.Action].flat().sort(), resource: s.Resource }));
    const ordersTable = { 'Fn::GetAtt': [expect.stringMatching(/^DataOrders/), 'Arn'] };
    expect(orderItemActions('FeedbackForm')).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resource: ordersTable },
    ]);
    expect(orderItemActions('RecordFeedback')).toEqual([{ actions: ['dynamodb:UpdateItem'], resource: ordersTable }]);
    for (const route of ['FeedbackForm', 'RecordFeedback']) {
      expect(actionsOf(route)).toContain('events:PutEvents');
      expect(actionsOf(route)).not.toContain('ses:SendEmail');
    }
    expect(actionsOf('RecordFeedback')).not.toContain('ses:SendEmail');
    expect(actionsOf('RequestFeedback')).toContain('ses:SendEmail');
    expect(actionsOf('RequestFeedback')).not.toContain('events:PutEvents');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          FEEDBACK_SECRET_ID: { Ref: secret },
          PUBLIC_API_URL: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiHttpApi'), 'ApiEndpoint'] }),
        }),
      },
    });
  });

  it('lets the credit-note and payment functions publish their facts and only read the orders', () => {
    for (const fn of ['IssueCreditNote', 'FinishCreditNotes', 'RecordPayment']) {
      expect(actionsOf(fn), fn).toContain('events:PutEvents');
      const onOrders = statementsOf(fn)
        .filter((st) => JSON.stringify(st.Resource).includes('DataOrders'))
        .flatMap((st) => [st.Action].flat());
      expect(onOrders, fn).toContain('dynamodb:GetItem');
      expect(
        onOrders.some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
        fn,
      ).toBe(false);
    }
  });

  it('lets the CRM webhook read its own secret, customers and prices, and capture orders, nothing more', () => {
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const crmSecret = secrets.find((id) => id.startsWith('CrmWebhookSecret'));
    expect(crmSecret).toBeDefined();
    const readsSecrets = statementsOf('CrmWebhook').filter((st) =>
      [st.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    expect(readsSecrets.map((st) => st.Resource)).toEqual([{ Ref: crmSecret }]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CRM_WEBHOOK_SECRET_ID: { Ref: crmSecret } }) },
      Timeout: 10,
    });
    const actions = actionsOf('CrmWebhook');
    expect(actions).toContain('states:StartExecution');
    expect(actions).toContain('events:PutEvents');
    for (const forbidden of ['ses:SendEmail', 's3:PutObject', 'states:SendTaskSuccess']) {
      expect(actions).not.toContain(forbidden);
    }
    const onTable = (name: string) =>
      statementsOf('CrmWebhook')
        .filter((st) => JSON.stringify(st.Resource).includes(name))
        .flatMap((st) => [st.Action].flat());
    // Orders are written, never deleted (only its idempotency records are); customers and products are only read.
    expect(onTable('DataOrders')).toContain('dynamodb:PutItem');
    expect(onTable('DataOrders')).not.toContain('dynamodb:DeleteItem');
    for (const table of ['DataCustomers', 'DataProducts']) {
      expect(onTable(table).length, table).toBeGreaterThan(0);
      expect(
        onTable(table).some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
        table,
      ).toBe(false);
    }
  });

  it('keeps invoice PDFs encrypted, private and TLS-only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: Match.objectLike({
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }),
        ],
      }),
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('serves the HTTP API routes the product documents', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    expect(routes.sort()).toEqual([
      'GET /credit-notes/{number}',
      'GET /credit-notes/{number}/pdf',
      'GET /customers',
      'GET /feedback/{token}',
      'GET /health',
      'GET /invoices',
      'GET /invoices/{number}',
      'GET /invoices/{number}/pdf',
      'GET /kpis',
      'GET /openapi.json',
      'GET /orders',
      'GET /orders/{orderId}',
      'GET /products',
      'POST /approvals/{approvalId}',
      'POST /feedback/{token}',
      'POST /invoices/{number}/credit-notes',
      'POST /invoices/{number}/payments',
      'POST /order-entries',
      'POST /orders',
      'POST /orders/{orderId}/cancel',
      'POST /products/{sku}/stock/adjustments',
      'POST /webhooks/carrier',
      'POST /webhooks/crm',
      'PUT /products/{sku}/stock',
    ]);
  });

  it('throttles every route of the stage, and the local API applies the same limits', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
    });
    const deployment = readDeployment(
      template.toJSON(),
      { region: 'us-east-1', accountId: '000000000000' },
      { stackName, definitionFile: WORKFLOW_DEFINITION_FILE },
    );
    expect(Object.keys(deployment.throttling).sort()).toEqual(deployment.routes.map((r) => r.routeKey).sort());
    expect(new Set(Object.values(deployment.throttling).map((t) => JSON.stringify(t)))).toEqual(
      new Set([JSON.stringify({ rateLimit: 100, burstLimit: 200 })]),
    );
  });

  it('alarms to a TLS-only topic, each alarm saying what it means and pointing at its runbook section', () => {
    const toTopic = [Match.objectLike({ Ref: Match.stringLikeRegexp('ObservabilityAlerts') })];
    const alarm = (name: string, props: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...props,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: toTopic,
        AlarmDescription: Match.stringLikeRegexp(`Runbook: README, Operations runbook > ${name}$`),
      });
    const machine = { Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('WorkflowStateMachine') } };
    for (const name of ['ExecutionsFailed', 'ExecutionsAborted', 'ExecutionsTimedOut'])
      alarm(name, { Namespace: 'AWS/States', MetricName: name, Dimensions: [machine], Threshold: 1, Period: 300 });
    const own = [{ Name: 'service', Value: 'sales-orders' }];
    for (const name of ['CompensationFailed', 'WorkflowStartDeferred', 'OrderNotSettled'])
      alarm(name, { Namespace: 'SalesOrders', MetricName: name, Dimensions: own, Statistic: 'Sum', Threshold: 1 });
    alarm('DeliveriesOverdue', {
      Namespace: 'SalesOrders',
      MetricName: 'DeliveriesOverdue',
      Dimensions: own,
      Statistic: 'Maximum',
      Period: 900,
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('SLA 7 days'),
    });
    const queue = (prefix: string) => [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), 'QueueName'] } },
    ];
    alarm('EventDeliveryFailed', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queue('EventsDeadLetters'),
      Statistic: 'Maximum',
      Threshold: 1,
    });
    alarm('InboundEmailFailed', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queue('InboxFailed'),
      Threshold: 1,
    });
    alarm('ApiServerErrors', {
      Namespace: 'AWS/ApiGateway',
      MetricName: '5xx',
      Dimensions: [{ Name: 'ApiId', Value: { Ref: Match.stringLikeRegexp('^ApiHttpApi') } }],
      Statistic: 'Sum',
      Threshold: 5,
    });
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(10);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
    // No subscription unless one is configured.
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the -c alertEmail address to the alerts, and takes the delivery SLA from -c deliverySlaDays', () => {
    const { stack } = buildOrderApp({
      context: { ...NO_BUNDLING, alertEmail: 'ops@example.com', deliverySlaDays: '3' },
    });
    const configured = Template.fromStack(stack);
    configured.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('ObservabilityAlerts') },
    });
    configured.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveriesOverdue',
      AlarmDescription: Match.stringLikeRegexp('SLA 3 days'),
    });
    configured.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DELIVERY_SLA_DAYS: '3' }) },
    });
  });

  it('shows the KPIs, the workflow executions and the API on one dashboard', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as {
      Properties: { DashboardBody: { 'Fn::Join': [string, unknown[]] } };
    }[];
    // The body is JSON text joined with references: the references become placeholders.
    const text = (dashboard?.Properties.DashboardBody['Fn::Join'][1] ?? [])
      .map((part) => (typeof part === 'string' ? part : 'REF'))
      .join('');
    type Widget = { type: string; properties: { title?: string; metrics?: unknown[][] } };
    const widgets = (JSON.parse(text) as { widgets: Widget[] }).widgets;
    const lines = widgets.flatMap((w) => w.properties.metrics ?? []);
    const named = (namespace: string, metric: string, stat?: string) =>
      lines.some(
        (line) =>
          line[0] === namespace &&
          line[1] === metric &&
          (stat === undefined || (line.at(-1) as { stat?: string }).stat === stat),
      );
    const expressions = lines.map((line) => (line[0] as { expression?: string }).expression).filter(Boolean);
    for (const metric of [
      'OrdersReceived',
      'OrdersCompleted',
      'OrdersRejected',
      'OrdersFailed',
      'OrdersCancelled',
      'OrdersBackordered',
      'OrdersFulfilled',
      'DeliveriesOnTime',
      'DeliveriesLate',
      'DeliveriesOverdue',
    ])
      expect(named('SalesOrders', metric), metric).toBe(true);
    expect(named('SalesOrders', 'OrderCycleTime', 'p50') && named('SalesOrders', 'OrderCycleTime', 'p90')).toBe(true);
    for (const metric of [
      'ExecutionsStarted',
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsAborted',
      'ExecutionsTimedOut',
    ])
      expect(named('AWS/States', metric), metric).toBe(true);
    expect(named('AWS/States', 'ExecutionTime', 'p90')).toBe(true);
    for (const metric of ['4xx', '5xx']) expect(named('AWS/ApiGateway', metric), metric).toBe(true);
    expect(named('AWS/ApiGateway', 'Latency', 'p90')).toBe(true);
    // Per-currency revenue, seconds from placing per stage and NPS answers per group: one line per dimension value.
    expect(expressions).toEqual(
      expect.arrayContaining([
        `SEARCH('{SalesOrders,service,currency} MetricName="Revenue"', 'Sum', 3600)`,
        `SEARCH('{SalesOrders,service,stage} MetricName="SecondsToStage"', 'p50', 3600)`,
        `SEARCH('{SalesOrders,service,stage} MetricName="SecondsToStage"', 'p90', 3600)`,
        `SEARCH('{SalesOrders,service,group} MetricName="FeedbackResponses"', 'Sum', 3600)`,
        '100 * fulfilled / IF(received - rejected > 0, received - rejected, 1)',
        '100 * onTime / IF(onTime + late > 0, onTime + late, 1)',
        '100 * backordered / IF(received > 0, received, 1)',
      ]),
    );
    const alarmWidget = widgets.find((w) => w.type === 'alarm') as { properties: { alarms: string[] } } | undefined;
    expect(alarmWidget?.properties.alarms).toHaveLength(10);
  });

  it('archives every order event for 90 days, replayable into the bus', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: 'SalesOrders-order-events',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EventsBus'), 'Arn'] },
      EventPattern: { source: ['sales.orders'] },
      RetentionDays: 90,
    });
  });

  it("outputs what the runbook's AWS setup reads from the stack, under the names it reads", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const setup = /<!-- aws-runbook: setup -->\s*```bash\n([\s\S]*?)```/.exec(readme)?.[1];
    if (!setup) throw new Error('README has no block marked aws-runbook: setup');
    expect(setup).toContain(`STACK=${stackName}\n`);
    const read = Object.fromEntries(
      [...setup.matchAll(/^(\w+)=\$\((?:.*?\$\()?output (\w+)\)/gm)].map((match) => [match[1], match[2]]),
    );
    expect(read).toEqual({
      MACHINE: 'StateMachineArn',
      BUS: 'EventBusArn',
      ARCHIVE: 'EventArchiveName',
      DLQ: 'DeadLettersQueueUrl',
    });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const idOf = (type: string) => {
      const ids = Object.keys(template.findResources(type));
      expect(ids, type).toHaveLength(1);
      return ids[0];
    };
    expect(outputs.StateMachineArn?.Value).toEqual({ Ref: idOf('AWS::StepFunctions::StateMachine') });
    expect(outputs.EventBusArn?.Value).toEqual({ 'Fn::GetAtt': [idOf('AWS::Events::EventBus'), 'Arn'] });
    // An archive's Ref is its name.
    expect(outputs.EventArchiveName?.Value).toEqual({ Ref: idOf('AWS::Events::Archive') });
    template.hasResourceProperties('AWS::Events::Archive', { ArchiveName: `${stackName}-order-events` });
    const queue = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) =>
      id.startsWith('EventsDeadLetters'),
    );
    expect(outputs.DeadLettersQueueUrl?.Value).toEqual({ Ref: queue });
    // Nothing is looked up by a guessed name prefix any more.
    expect(setup).not.toMatch(/starts_with|--name-prefix/);
  });

  it('gives every rule target retries, a maximum event age and the shared dead-letter queue', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: { Targets: Record<string, any>[] };
    }[];
    expect(rules.length).toBeGreaterThanOrEqual(5);
    for (const target of rules.flatMap((rule) => rule.Properties.Targets)) {
      expect(target.DeadLetterConfig?.Arn, target.Id).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^EventsDeadLetters/), 'Arn'],
      });
      expect(target.RetryPolicy?.MaximumRetryAttempts, target.Id).toBeGreaterThan(0);
      expect(target.RetryPolicy?.MaximumEventAgeInSeconds, target.Id).toBe(6 * 3600);
    }
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
    // EventBridge may send to it (CDK adds the queue policy for the rules).
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      }),
      Queues: [{ Ref: Match.stringLikeRegexp('^EventsDeadLetters') }],
    });
  });

  it('sends the events a rule-target function failed after its retries to the same dead-letter queue, one config per function', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: { Targets: { Arn: { 'Fn::GetAtt'?: [string, string] } }[] };
    }[];
    const targets = new Set(
      rules.flatMap((rule) => rule.Properties.Targets.map((target) => target.Arn['Fn::GetAtt']?.[0] as string)),
    );
    const functions = template.findResources('AWS::Lambda::Function');
    expect([...targets].every((id) => id in functions)).toBe(true);
    expect(targets.size).toBeGreaterThanOrEqual(5);
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')) as {
      Properties: Record<string, any>;
    }[];
    for (const fn of targets) {
      const own = configs.filter((config) => config.Properties.FunctionName?.Ref === fn);
      expect(own, fn).toHaveLength(1);
      expect(own[0]?.Properties).toMatchObject({
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 6 * 3600,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^EventsDeadLetters/), 'Arn'] } },
        },
      });
      // The function may send its failed invocations there.
      expect(
        statementsOf(fn.replace(/[0-9A-F]{8}$/, '')).some(
          (s) =>
            [s.Action].flat().includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes('EventsDeadLetters'),
        ),
        fn,
      ).toBe(true);
    }
  });

  it('lets the invoice stage send mail only from the configured sender', () => {
    const ses = statementsOf('IssueInvoice').find((s) => [s.Action].flat().includes('ses:SendEmail')) as Statement & {
      Condition?: unknown;
    };
    expect(ses.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'invoices@example.com' } });
  });

  it('hands executions that end ABORTED, TIMED_OUT or FAILED, and a sweep every 5 minutes, to the reconciler', () => {
    const reconciler = Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^ReconcileOrders'), 'Arn'] });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('WorkflowStateMachine') }],
        },
      },
      Targets: [Match.objectLike({ Arn: reconciler })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Arn: reconciler })],
    });
    // It finds open orders through a sparse index, never a Scan; it starts and describes executions.
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'openOrders',
          KeySchema: [
            { AttributeName: 'openOrder', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
    expect(actionsOf('ReconcileOrders')).toEqual(
      expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution']),
    );
    // The intake never deletes an order (a failed start is left to the caller's retry or the sweep).
    const onOrders = statementsOf('PlaceOrder').filter((st) => JSON.stringify(st.Resource).includes('DataOrders'));
    expect(onOrders.length).toBeGreaterThan(0);
    expect(onOrders.flatMap((st) => [st.Action].flat())).not.toContain('dynamodb:DeleteItem');
    // Order entries (rep, import) go through the same intake, and only read the customer and the price list.
    expect(actionsOf('EnterOrder')).toContain('states:StartExecution');
    for (const table of ['DataCustomers', 'DataProducts']) {
      const actions = statementsOf('EnterOrder')
        .filter((st) => JSON.stringify(st.Resource).includes(table))
        .flatMap((st) => [st.Action].flat());
      expect(actions, table).toContain('dynamodb:GetItem');
      expect(
        actions.some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a)),
        table,
      ).toBe(false);
    }
  });

  it('feeds the KPI consumer from the order bus', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['sales.orders'], 'detail-type': Match.arrayWith(['OrderReceived', 'OrderCompleted']) },
    });
  });
});

describe('the state machine definition', () => {
  const definition = readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8');
  const substituted = JSON.parse(
    definition.replace(/\$\{(\w+)FunctionArn\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:$1'),
  ) as { States: Record<string, Record<string, any>> };
  /** Every state, those of the FulfilShipments Map's iterator (one run per shipment) included. */
  const allStates: Record<string, Record<string, any>> = Object.assign(
    {},
    substituted.States,
    ...Object.values(substituted.States).map((state) => state.ItemProcessor?.States ?? {}),
  );

  it('is valid ASL (asl-validator)', () => {
    const result = validateAsl(substituted) as { isValid: boolean; errorsText: () => string };
    expect(result.errorsText()).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is JSONPath (no JSONata, no variables), so the local runtime runs it as AWS does', () => {
    expect(definition).not.toMatch(/"QueryLanguage"\s*:\s*"JSONata"|"Assign"/);
  });

  it('catches every task error: a named domain outcome or compensation', () => {
    for (const [name, state] of Object.entries(substituted.States)) {
      if (state.Type !== 'Task' || ['FailOrder', 'RejectOrder'].includes(name)) continue;
      const caught = (state.Catch ?? []).flatMap((c: { ErrorEquals: string[] }) => c.ErrorEquals);
      expect(caught, `${name} must catch States.ALL`).toContain('States.ALL');
    }
  });

  it('retries stock contention by name wherever a task moves stock (reserve, ship), so contention is never an outcome', () => {
    for (const name of ['ReserveStock', 'CreateShipment']) {
      const contention = (allStates[name]?.Retry ?? []).find((r: { ErrorEquals: string[] }) =>
        r.ErrorEquals.includes('StockContention'),
      );
      expect(contention?.MaxAttempts, name).toBeGreaterThanOrEqual(20);
      expect(contention?.JitterStrategy, name).toBe('FULL');
    }
  });

  it('retries transient errors with jitter, and never retries a domain outcome', () => {
    const retriers = Object.values(allStates).flatMap((s) => s.Retry ?? []) as {
      ErrorEquals: string[];
      MaxAttempts?: number;
      JitterStrategy?: string;
    }[];
    const retrying = retriers.filter((r) => r.MaxAttempts !== 0);
    expect(retrying.length).toBeGreaterThan(10);
    expect(retrying.every((r) => r.JitterStrategy === 'FULL')).toBe(true);
    const forward = [
      'ValidateOrder',
      'ReserveStock',
      'AuthorizePayment',
      'CreateShipment',
      'AwaitDelivery',
      'CapturePayment',
      'IssueInvoice',
      'CompleteOrder',
    ];
    for (const name of forward) {
      const first = allStates[name]?.Retry?.[0];
      expect(first, `${name} must not retry domain errors`).toEqual({
        ErrorEquals: expect.arrayContaining(['OutOfStock', 'PaymentDeclined']),
        MaxAttempts: 0,
      });
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes with zero unacknowledged findings', () => {
    const { app } = buildOrderApp({ context: NO_BUNDLING });
    expect(() => app.synth()).not.toThrow();
  });

  it('would fail the synth on an unacknowledged finding', () => {
    const { app, stack } = buildOrderApp({ context: NO_BUNDLING });
    new Bucket(stack, 'Unencrypted'); // no access logs, no TLS-only policy
    expect(() => app.synth()).toThrow(/AwsSolutions-S1|Validation failed/);
  });
});

describe('identity and authorization', () => {
  const resources = (type: string) =>
    Object.entries(template.findResources(type)) as [string, { Properties: Record<string, any> }][];
  const resourceServerId = () => resources('AWS::Cognito::UserPoolResourceServer')[0]?.[0] as string;
  const scopeRef = (name: string) => ({ 'Fn::Join': ['', [{ Ref: resourceServerId() }, `/${name}`]] });

  it('declares the JWT authorizer on every route but the health check, the API description, the signed webhooks and the survey links', () => {
    const routes = Object.fromEntries(
      resources('AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties.RouteKey, r.Properties]),
    );
    const [authorizerId] = resources('AWS::ApiGatewayV2::Authorizer')[0] ?? [];
    const expected: Record<string, string[] | 'public'> = {
      'POST /orders': ['sales/orders.place'],
      'GET /orders': ['sales/orders.search'],
      'GET /orders/{orderId}': ['sales/orders.read'],
      'POST /orders/{orderId}/cancel': ['sales/orders.cancel'],
      'POST /order-entries': ['sales/orders.enter'],
      'GET /products': ['sales/catalog.read'],
      'PUT /products/{sku}/stock': ['sales/stock.write'],
      'POST /products/{sku}/stock/adjustments': ['sales/stock.adjust'],
      'GET /customers': ['sales/customers.read'],
      'GET /invoices': ['sales/invoices.read'],
      'GET /invoices/{number}': ['sales/invoices.read'],
      'GET /invoices/{number}/pdf': ['sales/invoices.read'],
      'GET /kpis': ['sales/kpis.read'],
      'POST /invoices/{number}/credit-notes': ['sales/credit-notes.write'],
      'POST /invoices/{number}/payments': ['sales/payments.write'],
      'GET /credit-notes/{number}': ['sales/invoices.read'],
      'GET /credit-notes/{number}/pdf': ['sales/invoices.read'],
      'POST /approvals/{approvalId}': ['sales/approvals.write'],
      'POST /webhooks/carrier': 'public',
      'POST /webhooks/crm': 'public',
      'GET /feedback/{token}': 'public',
      'POST /feedback/{token}': 'public',
      'GET /health': 'public',
      'GET /openapi.json': 'public',
    };
    expect(Object.keys(routes).sort()).toEqual(Object.keys(expected).sort());
    for (const [key, scopes] of Object.entries(expected)) {
      const route = routes[key];
      if (scopes === 'public') {
        expect(route.AuthorizationType, key).toBe('NONE');
        expect(route.AuthorizerId, key).toBeUndefined();
      } else {
        expect(route.AuthorizationType, key).toBe('JWT');
        expect(route.AuthorizerId, key).toEqual({ Ref: authorizerId });
        expect(route.AuthorizationScopes, key).toEqual(scopes);
      }
    }
  });

  it('trusts the user pool as issuer and its app clients as audience, with the token in the Authorization header', () => {
    const [poolId] = resources('AWS::Cognito::UserPool')[0] ?? [];
    const clientIds = resources('AWS::Cognito::UserPoolClient').map(([id]) => ({ Ref: id }));
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Issuer: {
          'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: poolId }]],
        },
        Audience: Match.arrayWith(clientIds),
      },
    });
    expect(clientIds).toHaveLength(4);
  });

  it('gives each machine integration its own client-credentials app client with a generated secret and its role scopes', () => {
    const clients = Object.fromEntries(
      resources('AWS::Cognito::UserPoolClient').map(([, c]) => [c.Properties.ClientName, c.Properties]),
    );
    const machine: Record<string, string[]> = {
      checkout: ['orders.place', 'orders.read', 'catalog.read'],
      erp: ['stock.write', 'stock.adjust', 'catalog.read'],
      buyer: [
        'orders.place',
        'orders.read',
        'orders.search',
        'orders.on-account',
        'orders.cancel',
        'catalog.read',
        'customer.CUST-1002',
      ],
    };
    for (const [name, scopes] of Object.entries(machine)) {
      expect(clients[name], name).toMatchObject({
        AllowedOAuthFlows: ['client_credentials'],
        GenerateSecret: true,
        AllowedOAuthScopes: scopes.map(scopeRef),
      });
    }
    // People sign in through the staff client: authorization code, no secret in the browser.
    expect(clients.staff).toMatchObject({ AllowedOAuthFlows: ['code'], GenerateSecret: false });
  });

  it('keeps people in groups and maps groups and bound clients to scopes and claims with a V3 trigger', () => {
    expect(
      resources('AWS::Cognito::UserPoolGroup')
        .map(([, g]) => g.Properties.GroupName)
        .sort(),
    ).toEqual(['approver', 'finance', 'ops', 'rep']);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PreTokenGeneration'), 'Arn'] },
          LambdaVersion: 'V3_0',
        },
      },
      MfaConfiguration: 'ON',
      UserPoolTier: 'PLUS',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });

  it("lets the trigger read the pool's app clients (the customer binding), and nothing else of the pool", () => {
    const [poolId] = resources('AWS::Cognito::UserPool')[0] as [string, unknown];
    const grants = resources('AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('cognito-idp:'),
    );
    expect(grants).toHaveLength(1);
    const [, policy] = grants[0] as [string, { Properties: Record<string, any> }];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Action: 'cognito-idp:DescribeUserPoolClient',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [poolId, 'Arn'] },
      },
    ]);
    expect(policy.Properties.Roles).toEqual([{ Ref: expect.stringMatching(/^PreTokenGenerationRole/) }]);
  });

  it('binds a buyer client per -c buyerClients entry, each to its customer scope', () => {
    const { stack } = buildOrderApp({
      context: { ...NO_BUNDLING, buyerClients: 'acme-edi=CUST-2001,globex=CUST-2002' },
    });
    const other = Template.fromStack(stack);
    const names = Object.values(other.findResources('AWS::Cognito::UserPoolClient')).map(
      (c) => (c as { Properties: { ClientName: string } }).Properties.ClientName,
    );
    expect(names.sort()).toEqual(['acme-edi', 'checkout', 'erp', 'globex', 'staff']);
    other.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
      Scopes: Match.arrayWith([Match.objectLike({ ScopeName: 'customer.CUST-2001' })]),
    });
  });
});
