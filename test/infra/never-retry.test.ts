import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AslState, domainErrorClasses, domainErrorNames, taskStates } from '../support/never-retry.ts';

const definition = JSON.parse(
  readFileSync(new URL('../../statemachines/order-workflow.asl.json', import.meta.url), 'utf8'),
) as { States: Record<string, AslState> };
const domain = domainErrorNames();
const tasks = taskStates(definition.States);

describe('never-retry lists of the state machine', () => {
  it('finds the domain errors and the Task states, also those inside Map and Parallel states', () => {
    expect(domain).toEqual(expect.arrayContaining(['InvalidOrder', 'OrderCancelled', 'InvoiceNumbersExhausted']));
    expect(domain).not.toContain('StockContention'); // transient: retried
    expect(domain).not.toContain('EmailSendInProgress'); // transient: retried
    expect(domain).not.toContain('EmailSendDeferred'); // transient: retried
    expect(tasks.map(([name]) => name)).toEqual(expect.arrayContaining(['ValidateOrder', 'VoidPayment', 'FailOrder']));
  });

  it("retries the approvers' e-mail for minutes while SES defers it or another attempt holds it", () => {
    const retry = definition.States.AwaitApproval?.Retry?.find((r) => r.ErrorEquals.includes('EmailSendDeferred'));
    expect(retry?.ErrorEquals).toEqual(['EmailSendInProgress', 'EmailSendDeferred']);
    expect(retry?.MaxAttempts).toBeGreaterThanOrEqual(20);
    expect(definition.States.AwaitApproval?.Retry?.indexOf(retry as never)).toBe(1); // before States.TaskFailed
  });

  it('names every domain error class by its class name (the name Retry and Catch match)', () => {
    for (const [name, errorClass] of domainErrorClasses()) {
      expect(errorClass.name).toBe(name);
      // The instance name (what Lambda reports as errorType) is set by a field initializer.
      const instance = Reflect.construct(errorClass as never, [[], ''] as never) as Error;
      expect(instance.name).toBe(name);
    }
  });

  it.each(tasks)('%s never retries exactly the domain errors (first Retry entry)', (_name, state) => {
    const first = state.Retry?.[0];
    expect(first?.MaxAttempts).toBe(0);
    expect(new Set(first?.ErrorEquals)).toEqual(new Set(domain));
    expect(first?.ErrorEquals).toHaveLength(domain.length);
  });
});
