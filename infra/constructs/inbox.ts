import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { ReceiptRuleSet, TlsPolicy } from 'aws-cdk-lib/aws-ses';
import { Lambda, LambdaInvocationType, S3 } from 'aws-cdk-lib/aws-ses-actions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/** Where the receipt rule stores each message: `inbound/<SES message id>`. */
export const INBOUND_EMAIL_PREFIX = 'inbound/';
/** Received e-mails hold personal data: kept long enough to look into a disputed order, then deleted. */
export const INBOUND_EMAIL_RETENTION_DAYS = 30;
/** Lambda's retries of a failed invocation (its default, made explicit): about 1 and 2 minutes apart. */
export const INBOUND_EMAIL_RETRY_ATTEMPTS = 2;

export interface OrderInboxProps {
  /** The order inbox address, e.g. orders@example.com (`-c orderInbox=…`); its domain must be verified in SES. */
  recipient: string;
  /** The function SES invokes (asynchronously) for each message, after storing it. */
  handler: EnvFunction;
  /** Where the bucket's server access logs go (the documents' access-log bucket). */
  accessLogs: IBucket;
  removalPolicy?: RemovalPolicy;
}

/**
 * Orders by e-mail: an SES receipt rule for the order inbox that stores each message in an encrypted,
 * TLS-only bucket (expiring) and then invokes the handler with the SES event. An event the handler
 * still failed after Lambda's retries goes to the `failed` queue, for ops to look into and redrive
 * (README). CloudFormation cannot make a rule set active:
 * `aws ses set-active-receipt-rule-set --rule-set-name <ruleSetName>` (README).
 */
export class OrderInbox extends Construct {
  readonly bucket: Bucket;
  /** The e-mails whose processing failed after every retry: Lambda's on-failure records, with the SES event. */
  readonly failed: Queue;
  readonly ruleSet: ReceiptRuleSet;
  readonly ruleSetName: string;

  constructor(scope: Construct, id: string, props: OrderInboxProps) {
    super(scope, id);
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new Bucket(this, 'Messages', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(INBOUND_EMAIL_RETENTION_DAYS) }],
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'inbound-email/',
      removalPolicy: removal,
      autoDeleteObjects: removal === RemovalPolicy.DESTROY,
    });
    this.ruleSetName = `${Stack.of(this).stackName}-order-inbox`;
    this.ruleSet = new ReceiptRuleSet(this, 'RuleSet', { receiptRuleSetName: this.ruleSetName });
    this.ruleSet.addRule('OrderInbox', {
      recipients: [props.recipient],
      // Spam and virus verdicts for the handler, which drops such mail without a reply.
      scanEnabled: true,
      // Orders carry personal data: accept them over TLS only.
      tlsPolicy: TlsPolicy.REQUIRE,
      actions: [
        new S3({ bucket: this.bucket, objectKeyPrefix: INBOUND_EMAIL_PREFIX }),
        new Lambda({ function: props.handler, invocationType: LambdaInvocationType.EVENT }),
      ],
    });
    this.failed = new Queue(this, 'Failed', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS keeps a message: time for ops to fix the cause and redrive.
      retentionPeriod: Duration.days(14),
      removalPolicy: removal,
    });
    props.handler.configureAsyncInvoke({
      retryAttempts: INBOUND_EMAIL_RETRY_ATTEMPTS,
      onFailure: new SqsDestination(this.failed),
    });
    this.grantRead(props.handler);
    new CfnOutput(this, 'FailedQueueUrl', {
      value: this.failed.queueUrl,
      description:
        'Order e-mails that failed after every retry (the SES event): redrive by re-invoking InboundEmail (README)',
    });
    new CfnOutput(this, 'ReceiptRuleSetName', {
      value: this.ruleSetName,
      description: 'Activate once: aws ses set-active-receipt-rule-set --rule-set-name <this>',
    });
  }

  /** Reading the stored messages only: GetObject under the inbound prefix. */
  private grantRead(fn: EnvFunction): void {
    fn.addEnvironment('INBOUND_EMAIL_BUCKET_NAME', this.bucket.bucketName);
    fn.addEnvironment('INBOUND_EMAIL_PREFIX', INBOUND_EMAIL_PREFIX);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${INBOUND_EMAIL_PREFIX}*`)],
      }),
    );
  }
}
