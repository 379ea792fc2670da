/**
 * The accept scenario's load generator (accept.ts), in a process of its own (client-process.ts): an
 * open loop that sends one POST /orders every 1/rate seconds as the web checkout client, each at its
 * time by the clock whatever the earlier ones are doing. A request's latency counts from the time it
 * was due, so a late send counts against the system too.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveClientProcess } from './client-process.ts';

export interface SenderPlan {
  apiUrl: string;
  /** The checkout client's access token, taken before the clock starts, as a running checkout has one. */
  token: string;
  body: unknown;
  perSecond: number;
  seconds: number;
}

export interface SenderOutcome {
  /** Milliseconds from each request's due time to its answer. */
  latencies: number[];
  /** Milliseconds from each request's due time to its sending. */
  lateness: number[];
  /** Answers by HTTP status, failed connections by error code. */
  statuses: Record<string, number>;
  /** The orders accepted (202). */
  orderIds: string[];
  sentSeconds: number;
}

export async function sendPaced(plan: SenderPlan, report: (answered: number) => void): Promise<SenderOutcome> {
  const total = Math.round(plan.perSecond * plan.seconds);
  const interval = 1000 / plan.perSecond;
  const outcome: SenderOutcome = { latencies: [], lateness: [], statuses: {}, orderIds: [], sentSeconds: 0 };
  const body = JSON.stringify(plan.body);
  const start = performance.now() + 100;
  const sends = Array.from({ length: total }, async (_, i) => {
    const due = start + i * interval;
    await sleep(Math.max(0, due - performance.now()));
    outcome.lateness.push(performance.now() - due);
    let status: string;
    try {
      const response = await fetch(`${plan.apiUrl}/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${plan.token}`,
          'idempotency-key': `accept-${randomUUID()}`,
        },
        body,
      });
      const answer = (await response.json().catch(() => undefined)) as { orderId?: string } | undefined;
      status = String(response.status);
      if (response.status === 202 && answer?.orderId) outcome.orderIds.push(answer.orderId);
    } catch (error) {
      status = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    }
    outcome.latencies.push(performance.now() - due);
    outcome.statuses[status] = (outcome.statuses[status] ?? 0) + 1;
    report(outcome.latencies.length);
  });
  await Promise.all(sends);
  outcome.sentSeconds = (performance.now() - start) / 1000;
  return outcome;
}

serveClientProcess(import.meta.url, sendPaced);
