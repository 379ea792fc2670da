import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

const kpi = (metricName: string, statistic = 'Sum') =>
  new Metric({
    namespace: 'SalesOrders',
    metricName,
    dimensionsMap: { service: 'sales-orders' },
    statistic,
    period: Duration.hours(1),
  });

/** KPI dashboard (fed by the KPI consumer's metrics) and the operational alarms. */
export class OrderObservability extends Construct {
  /** Where alarms go: subscribe the on-call e-mail or chat integration. */
  readonly alerts: Topic;

  constructor(
    scope: Construct,
    id: string,
    props: {
      stateMachine: StateMachine;
      /** Order e-mails that failed every retry (the inbox's queue): alarmed on. */
      failedEmails?: IQueue;
    },
  ) {
    super(scope, id);
    this.alerts = new Topic(this, 'Alerts', { displayName: 'Sales order alerts', enforceSSL: true });
    const failed = props.stateMachine.metricFailed({ period: Duration.minutes(5) });
    const executionsFailed = new Alarm(this, 'ExecutionsFailed', {
      alarmDescription: 'An order workflow ended FAILED (declined payment after compensation, or an error left to ops)',
      metric: failed,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    executionsFailed.addAlarmAction(new SnsAction(this.alerts));
    // Executions that end outside the workflow's own Catch paths: the reconciler compensates their
    // orders (WorkflowInterrupted), and someone should know why they were stopped or ran out of time.
    const aborted = props.stateMachine.metricAborted({ period: Duration.minutes(5) });
    const timedOut = props.stateMachine.metricTimedOut({ period: Duration.minutes(5) });
    const own = (metricName: string) =>
      new Metric({
        namespace: 'SalesOrders',
        metricName,
        dimensionsMap: { service: 'sales-orders' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const compensationFailed = own('CompensationFailed');
    // Emitted by the reconciler when an interrupted order was past the point of no return.
    const notSettled = own('OrderNotSettled');
    const alarms: [string, string, Metric][] = [
      ['ExecutionsAborted', 'An order workflow execution was stopped (its order is compensated and FAILED)', aborted],
      ['ExecutionsTimedOut', 'An order workflow execution timed out (its order is compensated and FAILED)', timedOut],
      [
        'CompensationFailed',
        'Compensating an order failed (payment, shipment, stock or credit not given back): the order failure names what ops must settle',
        compensationFailed,
      ],
      [
        'WorkflowStartDeferred',
        'An order was accepted but its workflow could not be started: the open-orders sweep starts it; if this repeats, StartExecution is failing (permissions, throttling, the state machine)',
        own('WorkflowStartDeferred'),
      ],
      [
        'OrderNotSettled',
        'An interrupted order ended with its payment captured or its goods shipped but not invoiced (or not paid): the order failure.missing says what the customer is owed',
        notSettled,
      ],
    ];
    for (const [id, alarmDescription, metric] of alarms) {
      new Alarm(this, id, {
        alarmDescription,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(this.alerts));
    }
    if (props.failedEmails) {
      new Alarm(this, 'InboundEmailFailed', {
        alarmDescription:
          'An order e-mail failed after every retry: its SES event is in the failed order e-mails queue, to redrive (README, Orders by e-mail)',
        metric: props.failedEmails.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(this.alerts));
    }
    const fulfilmentRate = new MathExpression({
      expression: '100 * completed / IF(received > 0, received, 1)',
      usingMetrics: { completed: kpi('OrdersCompleted'), received: kpi('OrdersReceived') },
      label: 'Fulfilment rate %',
      period: Duration.hours(1),
    });
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Orders',
            left: [kpi('OrdersReceived'), kpi('OrdersCompleted'), kpi('OrdersRejected'), kpi('OrdersFailed')],
          }),
          new GraphWidget({
            title: 'Order cycle time (s)',
            left: [kpi('OrderCycleTime', 'p50'), kpi('OrderCycleTime', 'p90')],
          }),
        ],
        [
          new GraphWidget({ title: 'Fulfilment rate', left: [fulfilmentRate] }),
          new GraphWidget({
            title: 'Workflow executions',
            left: [props.stateMachine.metricSucceeded(), failed, props.stateMachine.metricTimedOut()],
          }),
        ],
      ],
    });
  }
}
