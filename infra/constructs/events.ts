import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { PublishedEvent } from '../../functions/core/events.ts';
import { KPI_EVENT_TYPES } from '../../functions/core/kpi-projection.ts';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

export const ORDER_EVENT_SOURCE = 'sales.orders';
/** How long the bus keeps every order event for replay (README, Operations runbook). */
export const EVENT_ARCHIVE_RETENTION_DAYS = 90;
/** EventBridge's retries of a failed delivery to a rule target, and how long it keeps trying. */
export const RULE_TARGET_RETRY_ATTEMPTS = 4;
export const RULE_TARGET_MAX_EVENT_AGE = Duration.hours(6);
/** Lambda's own retries of an event the function failed (the most it allows), before the dead-letter queue. */
export const FUNCTION_RETRY_ATTEMPTS = 2;

/**
 * The order bus: every stage publishes `Order<PastTense>` here; the KPI consumer listens. Every event
 * of the bus is archived (replayable for 90 days). Two failures land in the shared dead-letter queue
 * (alarmed on): an event EventBridge could not hand to a rule target after its retries (the event,
 * the error in its attributes), and an event the target function itself failed after Lambda's
 * retries of the asynchronous invoke (a Lambda invocation record: requestContext, requestPayload).
 */
export class OrderEvents extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;
  /** Events no rule target took after every retry: the bus's rules and the stack's schedules use it. */
  readonly deadLetters: Queue;
  /** Functions whose asynchronous invokes already fail over to the dead-letter queue (one config each). */
  private readonly failingOver = new Set<IFunction>();

  constructor(scope: Construct, id: string, props: { kpiConsumer: IFunction; removalPolicy?: RemovalPolicy }) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Sales order domain events' });
    this.archive = this.bus.archive('Archive', {
      // Named, so the runbook's replay command can say which archive (archive names are per region).
      archiveName: `${Stack.of(this).stackName}-order-events`,
      description: 'Every order domain event, replayable into the bus (README, Operations runbook)',
      eventPattern: { source: [ORDER_EVENT_SOURCE] },
      retention: Duration.days(EVENT_ARCHIVE_RETENTION_DAYS),
    });
    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS keeps a message: time for ops to fix the cause and replay.
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // What the runbook's replays and redrives name (README, Operations runbook), read from the stack.
    new CfnOutput(scope, 'EventBusArn', { value: this.bus.eventBusArn, description: 'The order event bus' });
    new CfnOutput(scope, 'EventArchiveName', {
      value: this.archive.archiveName,
      description: 'The archive of every order event (replays)',
    });
    new CfnOutput(scope, 'DeadLettersQueueUrl', {
      value: this.deadLetters.queueUrl,
      description: 'Events and invocations no rule target took after every retry',
    });
    this.addConsumer('KpiRule', {
      description: 'Order domain events and survey answers to the KPI projection',
      detailTypes: KPI_EVENT_TYPES,
      target: props.kpiConsumer,
    });
  }

  /**
   * A rule target that retries, then dead-letters: every rule of the stack targets functions this way.
   * EventBridge invokes the function asynchronously, so its dead-letter queue only takes the events it
   * could not hand over; the events the function then failed (an error, a timeout) Lambda retries and
   * sends to the same queue, configured once per function however many rules target it.
   */
  lambdaTarget(fn: IFunction, retryAttempts = RULE_TARGET_RETRY_ATTEMPTS): LambdaFunction {
    if (!this.failingOver.has(fn)) {
      this.failingOver.add(fn);
      fn.configureAsyncInvoke({
        onFailure: new SqsDestination(this.deadLetters),
        retryAttempts: FUNCTION_RETRY_ATTEMPTS,
        maxEventAge: RULE_TARGET_MAX_EVENT_AGE,
      });
    }
    return new LambdaFunction(fn, {
      retryAttempts,
      maxEventAge: RULE_TARGET_MAX_EVENT_AGE,
      deadLetterQueue: this.deadLetters,
    });
  }

  /** Another consumer of the bus: `target` gets the events of these detail-types (retried, then dead-lettered). */
  addConsumer(
    id: string,
    props: { description: string; detailTypes: readonly PublishedEvent[]; target: IFunction },
  ): Rule {
    return new Rule(this, id, {
      eventBus: this.bus,
      description: props.description,
      eventPattern: { source: [ORDER_EVENT_SOURCE], detailType: [...props.detailTypes] },
      targets: [this.lambdaTarget(props.target)],
    });
  }

  grantPublish(fn: EnvFunction): void {
    fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    this.bus.grantPutEventsTo(fn);
  }

  grantDescribe(fn: EnvFunction): void {
    fn.addEnvironment('EVENT_BUS_NAME', this.bus.eventBusName);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['events:DescribeEventBus'], resources: [this.bus.eventBusArn] }),
    );
  }
}
