/**
 * Waits a random time up to an exponentially growing cap (full jitter): retries of a contended
 * write or a failed call spread out instead of colliding again.
 */
export function backoff(attempt: number, baseMs: number, capMs: number, floorMs = 0): Promise<void> {
  const ms = floorMs + Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 16));
  return new Promise((resolve) => setTimeout(resolve, ms));
}
