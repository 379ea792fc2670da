import type { OrderEvent } from './events.ts';

/** Which metrics a domain event contributes to the KPI dashboard. Pure: the consumer just emits them. */
export interface MetricPoint {
  name: string;
  unit: 'Count' | 'Seconds' | 'None';
  value: number;
}

/** The domain events that feed KPIs: the KPI rule subscribes to exactly these. */
export const KPI_EVENT_TYPES = [
  'OrderReceived',
  'OrderShipped',
  'OrderDelivered',
  'OrderCompleted',
  'OrderRejected',
  'OrderFailed',
  'OrderCancelled',
] as const satisfies readonly OrderEvent[];

export function metricsFor(detailType: string, detail: Record<string, unknown>): MetricPoint[] {
  const number = (key: string) => (typeof detail[key] === 'number' ? (detail[key] as number) : undefined);
  switch (detailType) {
    case 'OrderReceived':
      return [{ name: 'OrdersReceived', unit: 'Count', value: 1 }];
    case 'OrderShipped':
      return [{ name: 'OrdersShipped', unit: 'Count', value: 1 }];
    case 'OrderDelivered':
      return [{ name: 'OrdersDelivered', unit: 'Count', value: 1 }];
    case 'OrderCompleted': {
      const points: MetricPoint[] = [{ name: 'OrdersCompleted', unit: 'Count', value: 1 }];
      const cycle = number('cycleTimeSeconds');
      if (cycle !== undefined) points.push({ name: 'OrderCycleTime', unit: 'Seconds', value: cycle });
      const total = number('total');
      // Revenue in major units of the order's currency, per currency dimension downstream.
      if (total !== undefined) points.push({ name: 'Revenue', unit: 'None', value: total / 100 });
      return points;
    }
    case 'OrderRejected':
      return [{ name: 'OrdersRejected', unit: 'Count', value: 1 }];
    case 'OrderFailed':
      return [{ name: 'OrdersFailed', unit: 'Count', value: 1 }];
    case 'OrderCancelled':
      return [{ name: 'OrdersCancelled', unit: 'Count', value: 1 }];
    default:
      return [];
  }
}
