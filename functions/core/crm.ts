import type { Problem } from './errors.ts';
import type { CrmWonDeal, OrderEntry } from './schemas.ts';

/**
 * The deal stage that creates an order: HubSpot's internal name of "Closed won" (a Salesforce outbound
 * message maps its "Closed Won" to it). Every other stage is acknowledged and ignored.
 */
export const CRM_WON_STAGE = 'closedwon';

export const isWonStage = (stage: string): boolean => stage === CRM_WON_STAGE;

/** A won deal as the order entry of the customer its company maps to (functions/lib/crm-deals.ts). */
export function dealEntry(deal: CrmWonDeal, customerId: string): OrderEntry {
  return {
    customerId,
    externalReference: deal.id,
    lines: deal.lineItems.map(({ sku, quantity, unitPrice }) => ({ sku, quantity, unitPrice })),
    currency: deal.currency,
    ...(deal.paymentTerms ? { payment: deal.paymentTerms } : {}),
    ...(deal.shippingAddress ? { shippingAddress: deal.shippingAddress } : {}),
  };
}

/**
 * Where each field of the order entry came from in the CRM's event, so a refusal names what the CRM sent.
 * `whole`: the CRM field has no parts (the payment terms stand for the whole payment, the company for the customer).
 */
const ENTRY_FIELDS: Record<string, { field: string; whole?: true }> = {
  lines: { field: 'deal.lineItems' },
  currency: { field: 'deal.currency' },
  shippingAddress: { field: 'deal.shippingAddress' },
  externalReference: { field: 'deal.id' },
  payment: { field: 'deal.paymentTerms', whole: true },
  customerId: { field: 'deal.company', whole: true },
};

/** The intake's problems with a deal's entry (InvalidOrder), named by the fields of the CRM event. */
export function dealProblems(problems: Problem[]): Problem[] {
  return problems.map(({ path, message }) => {
    const [head = '', ...rest] = path.split('.');
    const source = Object.hasOwn(ENTRY_FIELDS, head) ? ENTRY_FIELDS[head] : undefined;
    if (source) return { path: source.whole ? source.field : [source.field, ...rest].join('.'), message };
    return { path: path === '(order)' ? 'deal' : `deal.${path}`, message };
  });
}
