import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, setLongTimeout } from '../../local/stepfunctions/long-timer.ts';
import { PendingTask } from '../../local/stepfunctions/task-tokens.ts';

const DAY_MS = 86_400_000;

describe('long timers of the local Step Functions service', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('plain setTimeout fires at once beyond 2^31-1 ms: the overflow the long timer avoids', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const fired = vi.fn();
    setTimeout(fired, 30 * DAY_MS);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    warn.mockRestore();
  });

  it('waits 30 days in chunks and fires once at the deadline, not before', () => {
    const fired = vi.fn();
    setLongTimeout(fired, 30 * DAY_MS);
    vi.advanceTimersByTime(1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS - MAX_TIMER_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(60 * DAY_MS);
    expect(fired).toHaveBeenCalledOnce();
  });

  it('fires short delays as setTimeout does, and never once cleared', () => {
    const short = vi.fn();
    setLongTimeout(short, 50);
    vi.advanceTimersByTime(49);
    expect(short).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(short).toHaveBeenCalledOnce();

    const cleared = vi.fn();
    const timer = setLongTimeout(cleared, 40 * DAY_MS);
    vi.advanceTimersByTime(MAX_TIMER_MS + 10);
    timer.clear();
    vi.advanceTimersByTime(40 * DAY_MS);
    expect(cleared).not.toHaveBeenCalled();
  });

  it('a task waiting for its token with a 30-day TimeoutSeconds times out after 30 days, not at once', async () => {
    const task = new PendingTask({
      timeoutMs: 30 * DAY_MS,
      timeoutError: () => Object.assign(new Error('States.Timeout'), { name: 'States.Timeout' }),
    });
    const outcome = task.promise.then(
      () => 'succeeded',
      (error: Error) => error.name,
    );
    vi.advanceTimersByTime(25 * DAY_MS);
    expect(task.isSettled).toBe(false);
    vi.advanceTimersByTime(5 * DAY_MS);
    expect(await outcome).toBe('States.Timeout');
  });
});
