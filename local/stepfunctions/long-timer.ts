/**
 * Timers for the service's long delays (execution and task timeouts of days or weeks). Node's
 * setTimeout holds at most 2^31-1 ms (about 24.8 days); a longer delay overflows and fires at
 * once. A long timer waits in chunks below that limit until its deadline.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

export function setLongTimeout(fire: () => void, ms: number, now: () => number = Date.now): LongTimer {
  const deadline = now() + Math.max(0, ms);
  let handle: NodeJS.Timeout | undefined;
  const arm = () => {
    const remaining = deadline - now();
    if (remaining <= 0) {
      handle = undefined;
      fire();
      return;
    }
    handle = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
  };
  // The first chunk is armed even for 0 ms, so a timer never fires inside the call that sets it.
  handle = setTimeout(arm, Math.min(Math.max(0, ms), MAX_TIMER_MS));
  return {
    clear() {
      if (handle) clearTimeout(handle);
      handle = undefined;
    },
  };
}
