import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { KPI_EVENT_TYPES } from '../../functions/core/kpi-projection.ts';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

export const ORDER_EVENT_SOURCE = 'sales.orders';

/** The order bus: every stage publishes `Order<PastTense>` here; the KPI consumer listens. */
export class OrderEvents extends Construct {
  readonly bus: EventBus;

  constructor(scope: Construct, id: string, props: { kpiConsumer: IFunction }) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { description: 'Sales order domain events' });
    new Rule(this, 'KpiRule', {
      eventBus: this.bus,
      description: 'Order domain events and survey answers to the KPI projection',
      eventPattern: { source: [ORDER_EVENT_SOURCE], detailType: [...KPI_EVENT_TYPES] },
      targets: [new LambdaFunction(props.kpiConsumer, { retryAttempts: 4 })],
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
