import { describe, expect, it } from 'vitest';
import { ExecutionHistory } from '../../local/stepfunctions/history.ts';

describe('execution history', () => {
  const order = { orderId: 'ord-1', lines: Array.from({ length: 20 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i })) };

  it('keeps an ended execution packed, reads the same events, and unpacks for an event added later', () => {
    const history = new ExecutionHistory();
    history.add('ExecutionStarted', { input: JSON.stringify(order), inputDetails: { truncated: false } }, 1_000);
    history.add('TaskStateEntered', { name: 'ValidateOrder', input: JSON.stringify(order) }, 2_000);
    history.add('ExecutionSucceeded', { output: JSON.stringify(order) }, 3_000);
    const before = structuredClone(history.events);

    history.pack();
    expect(history.events).toEqual(before);
    // Packed, the events are not held as objects: each read is a copy.
    expect(history.events).not.toBe(history.events);

    history.add('ExecutionRedriven', { redriveCount: 1 }, 4_000);
    expect(history.events).toEqual([
      ...before,
      {
        id: 4,
        previousEventId: 3,
        timestamp: 4,
        type: 'ExecutionRedriven',
        executionRedrivenEventDetails: { redriveCount: 1 },
      },
    ]);
    expect(history.events).toBe(history.events);
  });
});
