/**
 * API Gateway's request throttling: a token bucket per route, `burstLimit` tokens deep, refilled at
 * `rateLimit` tokens a second, full at the start. A request takes one token; without one it is
 * answered 429. The limits come from the stage in the synthesized template (local/template.ts).
 */

export interface ThrottleLimits {
  /** Steady-state requests per second. */
  rateLimit: number;
  /** Bucket size: requests taken at once before the rate applies. */
  burstLimit: number;
}

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    readonly limits: ThrottleLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limits.rateLimit >= 0) || !(limits.burstLimit >= 0))
      throw new Error(`Invalid throttling limits ${JSON.stringify(limits)}`);
    this.tokens = limits.burstLimit;
    this.refilledAt = now();
  }

  /** Takes a token if there is one; false: throttle the request. */
  take(): boolean {
    const now = this.now();
    const refill = ((now - this.refilledAt) / 1000) * this.limits.rateLimit;
    this.tokens = Math.min(this.limits.burstLimit, this.tokens + refill);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
