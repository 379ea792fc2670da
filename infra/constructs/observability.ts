import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Namespace and dimension of the metrics the functions emit (Powertools Metrics, EMF). */
export const METRICS_NAMESPACE = 'SalesOrders';
const SERVICE = { service: 'sales-orders' };
const KPI_PERIOD = Duration.hours(1);
const ALARM_PERIOD = Duration.minutes(5);

/** Where each alarm's meaning and what to do about it are written down. */
export const RUNBOOK = 'README, Operations runbook';

/**
 * Every alarm: its name (the alarm's construct id and the heading of its runbook section), what it
 * means and the first thing to do. The README's runbook has a section per name (tested).
 */
export const ALARMS = {
  ExecutionsFailed:
    'An order workflow execution ended FAILED: an error outside its Catch paths, left to the reconciler',
  ExecutionsAborted: 'An order workflow execution was stopped: the reconciler compensates its order and fails it',
  ExecutionsTimedOut: 'An order workflow execution timed out: the reconciler compensates its order and fails it',
  CompensationFailed:
    'Compensating an order failed (payment, shipment, stock or credit not given back): the order failure names what ops must settle',
  WorkflowStartDeferred:
    'An order was accepted but its workflow could not be started: the open-orders sweep starts it; if this repeats, StartExecution is failing',
  OrderNotSettled:
    'An interrupted order ended charged or shipped but not invoiced (or not paid): the order failure.missing says what the customer is owed',
  DeliveriesOverdue:
    'Parcels shipped longer ago than the delivery SLA are still waiting for the carrier: ask the carrier, or mark the shipment lost',
  EventDeliveryFailed:
    'An event (order event, execution status change or schedule) failed every delivery to its rule target and is in the dead-letter queue',
  InboundEmailFailed:
    'An order e-mail failed after every retry: its SES event is in the failed order e-mails queue, to redrive',
  ApiServerErrors: 'The HTTP API answered 5xx: a route failed (logged with its error name), or SES deferred e-mails',
} as const;
export type AlarmName = keyof typeof ALARMS;

export interface OrderObservabilityProps {
  stateMachine: StateMachine;
  api: IHttpApi;
  /** Events the rule targets did not take after every retry (the order bus's shared dead-letter queue). */
  deadLetters: IQueue;
  /** Order e-mails that failed every retry (the inbox's queue). */
  failedEmails?: IQueue;
  /** An address subscribed to the alerts topic (`-c alertEmail=ops@example.com`); none by default. */
  alertEmail?: string;
  /** Parcels shipped longer ago than this count as overdue (the reconciler's DeliveriesOverdue metric). */
  deliverySlaDays: number;
}

const own = (metricName: string, statistic = 'Sum', period = KPI_PERIOD, dimensions: Record<string, string> = {}) =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { ...SERVICE, ...dimensions },
    statistic,
    period,
  });

/** One line per value of an extra dimension (currency, stage, group), whatever values appear. */
const byDimension = (metricName: string, dimension: string, statistic: string, label: string) =>
  new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service,${dimension}} MetricName="${metricName}"', '${statistic}', ${KPI_PERIOD.toSeconds()})`,
    label,
    period: KPI_PERIOD,
  });

const percent = (expression: string, usingMetrics: Record<string, IMetric>, label: string) =>
  new MathExpression({ expression, usingMetrics, label, period: KPI_PERIOD });

/** The KPI and operations dashboard, and the alarms (to the alerts topic, each pointing at the runbook). */
export class OrderObservability extends Construct {
  /** Where alarms go: the on-call e-mail (`alertEmail`), or a chat integration subscribed later. */
  readonly alerts: Topic;
  readonly alarms: Record<AlarmName, Alarm>;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OrderObservabilityProps) {
    super(scope, id);
    this.alerts = new Topic(this, 'Alerts', { displayName: 'Sales order alerts', enforceSSL: true });
    if (props.alertEmail) this.alerts.addSubscription(new EmailSubscription(props.alertEmail));
    const machine = props.stateMachine;
    const every5 = { period: ALARM_PERIOD };
    const visible = (queue: IQueue) =>
      queue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' });
    const serverErrors = props.api.metricServerError(every5);
    const alarmed: [AlarmName, IMetric, number][] = [
      ['ExecutionsFailed', machine.metricFailed(every5), 1],
      ['ExecutionsAborted', machine.metricAborted(every5), 1],
      ['ExecutionsTimedOut', machine.metricTimedOut(every5), 1],
      ['CompensationFailed', own('CompensationFailed', 'Sum', ALARM_PERIOD), 1],
      ['WorkflowStartDeferred', own('WorkflowStartDeferred', 'Sum', ALARM_PERIOD), 1],
      ['OrderNotSettled', own('OrderNotSettled', 'Sum', ALARM_PERIOD), 1],
      // The sweep reports the count every run (5 minutes); the largest count in 15 minutes.
      ['DeliveriesOverdue', own('DeliveriesOverdue', 'Maximum', Duration.minutes(15)), 1],
      ['EventDeliveryFailed', visible(props.deadLetters), 1],
      // A few in 5 minutes: one 503 (an e-mail deferred, retried by the client) is not a page.
      ['ApiServerErrors', serverErrors, 5],
    ];
    if (props.failedEmails) alarmed.push(['InboundEmailFailed', visible(props.failedEmails), 1]);
    const alarms: Partial<Record<AlarmName, Alarm>> = {};
    for (const [name, metric, threshold] of alarmed) {
      const description =
        name === 'DeliveriesOverdue' ? `${ALARMS[name]} (SLA ${props.deliverySlaDays} days)` : ALARMS[name];
      const alarm = new Alarm(this, name, {
        alarmDescription: `${description}. Runbook: ${RUNBOOK} > ${name}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new SnsAction(this.alerts));
      alarms[name] = alarm;
    }
    this.alarms = alarms as Record<AlarmName, Alarm>;

    const kpi = (name: string, statistic = 'Sum') => own(name, statistic);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Orders by outcome',
            width: 12,
            left: [
              'OrdersReceived',
              'OrdersCompleted',
              'OrdersRejected',
              'OrdersFailed',
              'OrdersCancelled',
              'OrdersBackordered',
              'OrdersShipped',
              'OrdersDelivered',
            ].map((name) => kpi(name)),
          }),
          new GraphWidget({
            title: 'Revenue per currency (major units)',
            width: 12,
            left: [byDimension('Revenue', 'currency', 'Sum', 'Revenue')],
          }),
        ],
        [
          new GraphWidget({
            title: 'Order cycle time (s)',
            width: 8,
            left: [kpi('OrderCycleTime', 'p50'), kpi('OrderCycleTime', 'p90')],
          }),
          new GraphWidget({
            title: 'Fulfilment, on-time and backorder rates (%)',
            width: 8,
            left: [
              percent(
                '100 * fulfilled / IF(received - rejected > 0, received - rejected, 1)',
                { fulfilled: kpi('OrdersFulfilled'), received: kpi('OrdersReceived'), rejected: kpi('OrdersRejected') },
                'Fulfilment rate %',
              ),
              percent(
                '100 * onTime / IF(onTime + late > 0, onTime + late, 1)',
                { onTime: kpi('DeliveriesOnTime'), late: kpi('DeliveriesLate') },
                'On-time delivery rate %',
              ),
              percent(
                '100 * backordered / IF(received > 0, received, 1)',
                { backordered: kpi('OrdersBackordered'), received: kpi('OrdersReceived') },
                'Backorder rate %',
              ),
            ],
          }),
          new GraphWidget({
            title: 'NPS responses by group',
            width: 8,
            left: [byDimension('FeedbackResponses', 'group', 'Sum', 'Responses')],
          }),
        ],
        [
          new GraphWidget({
            title: 'Seconds from placing to each stage, p50',
            width: 12,
            left: [byDimension('SecondsToStage', 'stage', 'p50', 'p50')],
          }),
          new GraphWidget({
            title: 'Seconds from placing to each stage, p90',
            width: 12,
            left: [byDimension('SecondsToStage', 'stage', 'p90', 'p90')],
          }),
        ],
        [
          new GraphWidget({
            title: 'Workflow executions',
            width: 12,
            left: [
              machine.metricStarted(),
              machine.metricSucceeded(),
              machine.metricFailed(),
              machine.metricAborted(),
              machine.metricTimedOut(),
            ],
          }),
          new GraphWidget({
            title: 'Workflow execution duration (ms)',
            width: 12,
            left: [machine.metricTime({ statistic: 'p50' }), machine.metricTime({ statistic: 'p90' })],
          }),
        ],
        [
          new GraphWidget({
            title: 'API errors',
            width: 8,
            left: [props.api.metricClientError(), props.api.metricServerError()],
          }),
          new GraphWidget({
            title: 'API latency (ms)',
            width: 8,
            left: [props.api.metricLatency({ statistic: 'p50' }), props.api.metricLatency({ statistic: 'p90' })],
          }),
          new SingleValueWidget({
            title: 'Dead letters and overdue deliveries',
            width: 8,
            metrics: [
              visible(props.deadLetters),
              ...(props.failedEmails ? [visible(props.failedEmails)] : []),
              own('DeliveriesOverdue', 'Maximum', Duration.minutes(15)),
            ],
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: Object.values(this.alarms) })],
      ],
    });
  }
}
