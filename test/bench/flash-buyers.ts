/**
 * The flash sale's buyers (flash-sale.ts), in a process of their own: 2,000 HTTP clients with their
 * connections and answers are the load, not the local runtime, whose memory and CPU the sale measures.
 * Run by flash-sale.ts through client-process.ts.
 */
import type { LocalRuntime } from '../../local/runtime.ts';
import { sleep, TestClient } from '../support/runtime.ts';
import { serveClientProcess } from './client-process.ts';
import { backoffMs } from './figures.ts';

export interface BuyersPlan {
  urls: LocalRuntime['urls'];
  buyers: number;
  /** Arrivals per second; 0: all at once. */
  perSecond: number;
  deadlineSeconds: number;
  order: unknown;
  terminal: string[];
}

/** What the buyers saw, for the POSTs or for the polls: answers by status, failed connections by code, retries. */
export interface AnswerCounts {
  byStatus: Record<string, number>;
  connectionErrors: Record<string, number>;
  retried: number;
}

export interface BuyersOutcome {
  bought: { orderId: string; order: Record<string, any> }[];
  posts: AnswerCounts;
  polls: AnswerCounts;
  refused: number;
  /** From the first arrival to the last order accepted. */
  acceptedSeconds: number;
  startedAt: number;
}

/** What the buyers report while they buy. */
export interface BuyersProgress {
  accepted: number;
  refused: number;
  ended: number;
  throttled: number;
}

const ATTEMPTS = 6;

export const newAnswers = (): AnswerCounts => ({ byStatus: {}, connectionErrors: {}, retried: 0 });
const bump = (map: Record<string, number>, key: string) => {
  map[key] = (map[key] ?? 0) + 1;
};

/** One request as a buyer makes it: retried after a 429 (backing off) or a failed connection. */
export async function call(
  answers: AnswerCounts,
  send: () => Promise<{ status: number; body: any; headers: Headers }>,
  giveUpAt: number,
): Promise<{ status: number; body: any } | undefined> {
  for (let attempt = 1, failures = 0; Date.now() < giveUpAt; attempt++) {
    let wait: number;
    try {
      const response = await send();
      bump(answers.byStatus, String(response.status));
      if (response.status === 429) wait = backoffMs(attempt, response.headers.get('retry-after'));
      else if (response.status === 503 && ++failures < ATTEMPTS) wait = 500 * failures;
      else return response;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      bump(answers.connectionErrors, cause?.code ?? (error as Error).name);
      if (++failures >= ATTEMPTS) return undefined;
      wait = 500 * failures + Math.random() * 500;
    }
    answers.retried++;
    await sleep(wait);
  }
  return undefined;
}

export async function runBuyers(plan: BuyersPlan, report: (progress: BuyersProgress) => void): Promise<BuyersOutcome> {
  const client = new TestClient({ urls: plan.urls } as LocalRuntime).as('checkout');
  const terminal = new Set(plan.terminal);
  const posts = newAnswers();
  const polls = newAnswers();
  let accepted = 0;
  let refused = 0;
  let ended = 0;
  const giveUpAt = Date.now() + plan.deadlineSeconds * 1000;
  const started = performance.now();
  const startedAt = Date.now();
  let lastAccepted = started;

  /** A buyer: places the order, then follows it on the order page until it ends. */
  const buyer = async (): Promise<{ orderId: string; order: Record<string, any> } | undefined> => {
    const key = `flash-${crypto.randomUUID()}`;
    const placed = await call(
      posts,
      () => client.rawRequest('POST', '/orders', plan.order, { 'idempotency-key': key }),
      giveUpAt,
    );
    if (placed?.status !== 202) {
      refused++;
      return undefined;
    }
    accepted++;
    lastAccepted = performance.now();
    const orderId = placed.body?.orderId as string;
    let order: Record<string, any> = {};
    while (Date.now() < giveUpAt) {
      await sleep(1_500 + Math.random() * 1_000);
      const seen = await call(polls, () => client.rawRequest('GET', `/orders/${orderId}`), giveUpAt);
      if (seen?.status === 200) order = seen.body;
      if (terminal.has(order.status)) break;
    }
    ended++;
    return { orderId, order };
  };

  await client.token('checkout');
  const ticker = setInterval(() => report({ accepted, refused, ended, throttled: posts.byStatus['429'] ?? 0 }), 200);
  try {
    const bought = (
      await Promise.all(
        Array.from({ length: plan.buyers }, (_, i) =>
          plan.perSecond > 0 ? sleep((i * 1000) / plan.perSecond).then(buyer) : buyer(),
        ),
      )
    ).filter((b) => b !== undefined);
    return { bought, posts, polls, refused, acceptedSeconds: (lastAccepted - started) / 1000, startedAt };
  } finally {
    clearInterval(ticker);
  }
}

// Run as the buyers' process (client-process.ts).
serveClientProcess(import.meta.url, runBuyers);
