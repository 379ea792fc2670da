import type { EventBridgeEvent } from 'aws-lambda';
import { isDetailType, parseEventDetail } from '../core/event-catalog.ts';
import { foldEvent, type MetricPoint, type StageTime } from '../core/kpi-projection.ts';
import { kpiRepository } from '../lib/deps.ts';
import { metrics } from '../lib/metrics.ts';
import { logOrder, observedHandler } from '../lib/powertools.ts';

const kpis = kpiRepository();

type DomainEvent = EventBridgeEvent<string, unknown>;

/**
 * KPI projection: folds each domain event into the KPI table (core/kpi-projection.ts) and emits the
 * CloudWatch metrics (embedded metric format) of the facts it established, once per fact: a duplicate
 * or replayed event changes nothing and emits nothing. One consistent read first tells what the item
 * already holds, so a duplicate writes nothing (and takes no counter's lock). The event's stage is
 * recorded with the transition that carries it when that one happens; else apart. An event that only
 * adds its stage to made facts (most of an order's) is one conditional write, without that read; the
 * whole fold runs when the write is refused. A detail the catalog refuses fails the delivery (EventBridge
 * retries, then its dead-letter queue keeps it). Metrics are emitted at most once per fact: a write whose
 * answer was lost and whose retry was refused (or a timeout right after it) emits nothing; the table is exact.
 */
export const handler = observedHandler(async (event: DomainEvent) => {
  const detailType = event['detail-type'];
  if (!isDetailType(detailType)) throw new Error(`Not a cataloged detail-type: ${detailType}`);
  const detail = parseEventDetail(detailType, event.detail);
  logOrder(detail.orderId);
  const fold = foldEvent(detailType, detail);
  const recorded: string[] = [];
  const stageRecorded = (stage: StageTime) => {
    recorded.push(`stageTimes.${stage.stage}`);
    emit(stage.metrics);
  };
  try {
    if (fold.stageFirst && fold.stage && (await kpis.recordEarliestStage(fold.stage))) {
      stageRecorded(fold.stage);
      return { recorded };
    }
    const known = await kpis.known(
      fold.key,
      fold.transitions.map((transition) => transition.guard),
    );
    let carried = false;
    for (const transition of fold.transitions) {
      if (known.guards.has(transition.guard) || !(await kpis.apply(transition))) continue;
      recorded.push(transition.guard);
      emit(transition.metrics);
      if (!transition.stage) continue;
      carried = true;
      stageRecorded(transition.stage);
    }
    // Refused on facts already made: the one write would be refused again, so the two steps apart at once.
    const combined = !(fold.stageFirst && fold.transitions.every((transition) => known.guards.has(transition.guard)));
    if (
      fold.stage &&
      !carried &&
      !known.events.has(fold.stage.eventId) &&
      (await kpis.recordStage(fold.stage, { combined }))
    )
      stageRecorded(fold.stage);
  } finally {
    // Most deliveries of a known fact emit nothing: publish only when there is a metric.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
  return { recorded };
});

function emit(points: readonly MetricPoint[]): void {
  for (const point of points) {
    if (point.dimensions) {
      const single = metrics.singleMetric();
      for (const [name, value] of Object.entries(point.dimensions)) single.addDimension(name, value);
      single.addMetric(point.name, point.unit, point.value);
    } else {
      metrics.addMetric(point.name, point.unit, point.value);
    }
  }
}
