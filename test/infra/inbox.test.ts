import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOrderApp } from '../../infra/build.ts';
import { INBOUND_EMAIL_RETRY_ATTEMPTS } from '../../infra/constructs/inbox.ts';
import { WORKFLOW_DEFINITION_FILE } from '../../infra/workflow-definition.ts';
import { ASYNC_RETRY_DELAYS_MS } from '../../local/lambda.ts';
import { readDeployment } from '../../local/template.ts';

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
type Resource = { Properties: Record<string, any>; DependsOn?: string[] };
let template: Template;
const only = (type: string, t: Template = template) => {
  const found = Object.entries(t.findResources(type)) as [string, Resource][];
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
};
const idOf = (type: string, prefix: string) =>
  Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix)) as string;

beforeAll(() => {
  template = Template.fromStack(buildOrderApp({ context: NO_BUNDLING }).stack);
});

describe('the order inbox (SES receiving)', () => {
  it('has one rule set with one rule for the order inbox: store the message under inbound/, then invoke InboundEmail asynchronously', () => {
    const [ruleSetId, ruleSet] = only('AWS::SES::ReceiptRuleSet');
    expect(ruleSet.Properties.RuleSetName).toBe('SalesOrders-order-inbox');
    const [, rule] = only('AWS::SES::ReceiptRule');
    expect(rule.Properties).toEqual({
      RuleSetName: { Ref: ruleSetId },
      Rule: {
        Enabled: true,
        Recipients: ['orders@example.com'],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        Actions: [
          { S3Action: { BucketName: { Ref: idOf('AWS::S3::Bucket', 'InboxMessages') }, ObjectKeyPrefix: 'inbound/' } },
          {
            LambdaAction: {
              FunctionArn: { 'Fn::GetAtt': [idOf('AWS::Lambda::Function', 'InboundEmail'), 'Arn'] },
              InvocationType: 'Event',
            },
          },
        ],
      },
    });
    // SES checks its permissions when the rule is created: the bucket policy and the invoke permission first.
    expect(rule.DependsOn).toEqual(
      expect.arrayContaining([
        idOf('AWS::S3::BucketPolicy', 'InboxMessagesPolicy'),
        idOf('AWS::Lambda::Permission', 'InboundEmailAllowSes'),
      ]),
    );
    template.hasOutput('*', { Value: 'SalesOrders-order-inbox' });
  });

  it('takes the inbox address from -c orderInbox', () => {
    const other = Template.fromStack(
      buildOrderApp({ context: { ...NO_BUNDLING, orderInbox: 'purchase@shop.example' } }).stack,
    );
    const [, rule] = only('AWS::SES::ReceiptRule', other);
    expect(rule.Properties.Rule.Recipients).toEqual(['purchase@shop.example']);
  });

  it('keeps the messages encrypted, private, TLS-only, access-logged and expiring after 30 days', () => {
    const bucketId = idOf('AWS::S3::Bucket', 'InboxMessages');
    const bucket = template.findResources('AWS::S3::Bucket')[bucketId] as Resource;
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, Status: 'Enabled' }] },
      LoggingConfiguration: { LogFilePrefix: 'inbound-email/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          // Only SES of this account may write, and only under the prefix.
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'ses.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/inbound/*']] },
          }),
        ]),
      },
    });
  });

  it('lets InboundEmail read the stored messages only, capture orders, and send mail from our sender only', () => {
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('InboundEmailRole'))
      .flatMap(([, p]) => (p as Resource).Properties.PolicyDocument.Statement as Record<string, any>[]);
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    const s3 = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('s3:')));
    expect(s3).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf('AWS::S3::Bucket', 'InboxMessages'), 'Arn'] }, '/inbound/*']],
        },
      },
    ]);
    expect(actions).toEqual(expect.arrayContaining(['states:StartExecution', 'events:PutEvents', 'ses:SendEmail']));
    // Orders are written, never deleted.
    const onOrders = statements.filter((st) => JSON.stringify(st.Resource).includes('DataOrders'));
    expect(onOrders.length).toBeGreaterThan(0);
    expect(onOrders.flatMap((st) => [st.Action].flat())).not.toContain('dynamodb:DeleteItem');
    const send = statements.find((s) => [s.Action].flat().includes('ses:SendEmail'));
    expect(send?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'invoices@example.com' } });
  });

  it('keeps an e-mail that failed every retry: 2 retries, then its event to an encrypted, TLS-only, retained queue, alarmed on', () => {
    const functionId = idOf('AWS::Lambda::Function', 'InboundEmail');
    const queueId = idOf('AWS::SQS::Queue', 'InboxFailed');
    const queue = template.findResources('AWS::SQS::Queue')[queueId] as Resource;
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')) as Resource[];
    const config = configs.find((c) => c.Properties.FunctionName?.Ref === functionId) as Resource;
    expect(config.Properties).toEqual({
      FunctionName: { Ref: functionId },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    // Two weeks (the most SQS keeps) to fix the cause and redrive; kept when the stack goes.
    expect(queue.Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    expect((queue as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    // Lambda writes the failure record with the function's role: only InboundEmail's role may send to it.
    const senders = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      ((p as Resource).Properties.PolicyDocument.Statement as Record<string, any>[]).some(
        (st) =>
          [st.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(st.Resource) === JSON.stringify({ 'Fn::GetAtt': [queueId, 'Arn'] }),
      ),
    ) as Resource[];
    expect(senders.map((p) => p.Properties.Roles)).toEqual([[{ Ref: idOf('AWS::IAM::Role', 'InboundEmailRole') }]]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('ObservabilityAlerts') })],
    });
    template.hasOutput('*', { Value: { Ref: queueId } });
    // The local runtime has no destinations; it retries a failed event as often as the config says.
    expect(ASYNC_RETRY_DELAYS_MS).toHaveLength(INBOUND_EMAIL_RETRY_ATTEMPTS);
  });

  it('is what the local runtime receives mail with: the rule, the local bucket and the function', () => {
    const { app, stack } = buildOrderApp({ context: NO_BUNDLING });
    const synthesized = app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
    const deployment = readDeployment(
      synthesized,
      { region: 'us-east-1', accountId: '000000000000' },
      { stackName: 'SalesOrders', definitionFile: WORKFLOW_DEFINITION_FILE },
    );
    expect(deployment.receiptRules).toEqual([
      {
        name: expect.stringMatching(/OrderInbox/),
        recipients: ['orders@example.com'],
        scanEnabled: true,
        actions: [
          { type: 'S3', bucketName: 'inboxmessages', objectKeyPrefix: 'inbound/' },
          {
            type: 'Lambda',
            functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:InboundEmail',
            invocationType: 'Event',
          },
        ],
      },
    ]);
    expect(deployment.buckets).toContain('inboxmessages');
    const fn = deployment.functions.find((f) => f.name === 'InboundEmail');
    expect(fn?.environment).toMatchObject({
      INBOUND_EMAIL_BUCKET_NAME: 'inboxmessages',
      INBOUND_EMAIL_PREFIX: 'inbound/',
    });
  });
});
