import { describe, expect, it } from 'vitest';
import { stageThrottling } from '../../local/template.ts';
import { TokenBucket } from '../../local/throttle.ts';

describe('TokenBucket (API Gateway throttling)', () => {
  it('takes a burst at once, then refills at the rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ rateLimit: 10, burstLimit: 3 }, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now = 50; // half a token
    expect(bucket.take()).toBe(false);
    now = 100; // one token since the last take
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('never holds more than the burst, however long it was idle', () => {
    let now = 0;
    const bucket = new TokenBucket({ rateLimit: 100, burstLimit: 2 }, () => now);
    now = 60_000;
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });

  it('throttles everything with a zero burst', () => {
    const bucket = new TokenBucket({ rateLimit: 100, burstLimit: 0 }, () => 0);
    expect(bucket.take()).toBe(false);
  });
});

describe('stageThrottling (the stage in the template)', () => {
  const routes = ['POST /orders', 'GET /orders/{orderId}', 'GET /health'];

  it('gives every route the default route settings, each route its own limits', () => {
    const stage = {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingBurstLimit: 200, ThrottlingRateLimit: 100 },
      RouteSettings: { 'POST /orders': { ThrottlingRateLimit: 20 }, 'GET /health': { ThrottlingBurstLimit: 5 } },
    };
    expect(stageThrottling([stage], routes)).toEqual({
      'POST /orders': { rateLimit: 20, burstLimit: 200 },
      'GET /orders/{orderId}': { rateLimit: 100, burstLimit: 200 },
      'GET /health': { rateLimit: 100, burstLimit: 5 },
    });
  });

  it('throttles nothing when the stage sets no limits', () => {
    expect(stageThrottling([{ StageName: '$default' }], routes)).toEqual({});
    expect(stageThrottling([], routes)).toEqual({});
  });

  it('reads the $default stage among several', () => {
    const stages: Record<string, unknown>[] = [
      { StageName: 'beta', DefaultRouteSettings: { ThrottlingBurstLimit: 1, ThrottlingRateLimit: 1 } },
      { StageName: '$default', DefaultRouteSettings: { ThrottlingBurstLimit: 9, ThrottlingRateLimit: 3 } },
    ];
    expect(stageThrottling(stages, ['GET /health'])).toEqual({ 'GET /health': { rateLimit: 3, burstLimit: 9 } });
    expect(() => stageThrottling([stages[0] ?? {}, stages[0] ?? {}], routes)).toThrow(/stages/);
  });
});
