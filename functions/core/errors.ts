/**
 * Domain errors. The class name is the error name Step Functions sees (Lambda's `errorType`),
 * so the state machine's Catch and Retry match them by name. Keep names stable: they are the
 * failure codes shown on the order.
 */
export class DomainError extends Error {
  override name = 'DomainError';
}

export interface Problem {
  path: string;
  message: string;
}

/** The order cannot be accepted as asked (unknown customer or product, wrong price, bad destination…). */
export class InvalidOrder extends DomainError {
  override name = 'InvalidOrder';
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  }
}

/**
 * An idempotency key used again with another submission: a key is bound for good to the order its first
 * submission made (the order's id is derived from the key, and the order keeps the submission's hash).
 */
export class IdempotencyKeyReused extends DomainError {
  override name = 'IdempotencyKeyReused';
  constructor() {
    super('The idempotency key was already used for another order');
  }
}

export interface ShortLine {
  sku: string;
  requested: number;
  available: number;
}

export class OutOfStock extends DomainError {
  override name = 'OutOfStock';
  constructor(readonly lines: ShortLine[]) {
    super(
      `Not enough stock for ${lines.map((l) => `${l.sku} (requested ${l.requested}, available ${l.available})`).join(', ')}`,
    );
  }
}

/** The customer is blocked (e.g. by credit control): no new orders are accepted. */
export class CustomerBlocked extends DomainError {
  override name = 'CustomerBlocked';
  constructor(customerId: string) {
    super(`Customer ${customerId} is blocked and cannot place orders`);
  }
}

export interface MismatchedLine {
  index: number;
  sku: string;
  listPrice: number;
  givenPrice: number;
}

/**
 * A unit price the client sent is not the list price: the customer saw another price than the one we
 * would charge, so the order is refused rather than charged at a price nobody agreed to.
 */
export class PriceMismatch extends DomainError {
  override name = 'PriceMismatch';
  constructor(readonly lines: MismatchedLine[]) {
    super(
      `Prices differ from the price list: ${lines
        .map((l) => `lines[${l.index}] ${l.sku} list price ${l.listPrice}, given ${l.givenPrice}`)
        .join('; ')}`,
    );
  }
}

export class CreditLimitExceeded extends DomainError {
  override name = 'CreditLimitExceeded';
}

export class PaymentDeclined extends DomainError {
  override name = 'PaymentDeclined';
}

/** Transient: the state machine retries these with backoff and jitter. */
export class PaymentProviderUnavailable extends Error {
  override name = 'PaymentProviderUnavailable';
}

/** Transient: the carrier could not be reached to book a shipment. Retried by the state machine. */
export class CarrierUnavailable extends Error {
  override name = 'CarrierUnavailable';
}

/** Transient: concurrent transactions touched the same stock items. Retried by the state machine. */
export class StockContention extends Error {
  override name = 'StockContention';
}

export class OrderNotFound extends DomainError {
  override name = 'OrderNotFound';
  constructor(orderId: string) {
    super(`Order ${orderId} does not exist`);
  }
}

/**
 * A write for a shipment that does not exist (a tracking number's index entry is all a carrier event has).
 * Not a domain error: every step that writes a shipment created it first, so it is not an order outcome.
 */
export class ShipmentNotFound extends Error {
  override name = 'ShipmentNotFound';
  constructor(orderId: string, shipmentId: string) {
    super(`Order ${orderId} has no shipment ${shipmentId}`);
  }
}

/** The order already ended (COMPLETED, REJECTED, CANCELLED or FAILED): late news cannot reopen it. */
export class OrderClosed extends DomainError {
  override name = 'OrderClosed';
  constructor(orderId: string, status: string) {
    super(`Order ${orderId} is already ${status}`);
  }
}

export class InvoiceNumbersExhausted extends DomainError {
  override name = 'InvoiceNumbersExhausted';
}

/** The payment was captured (the goods were delivered): it is never voided; money goes back by a credit note. */
export class PaymentAlreadyCaptured extends DomainError {
  override name = 'PaymentAlreadyCaptured';
}

/**
 * Transient: the invoice request is recorded and waits for the year's numbering (another function
 * holds the lease and numbers requests in batches). Retried by the state machine; never an outcome.
 */
export class InvoiceNumberPending extends Error {
  override name = 'InvoiceNumberPending';
}

/**
 * Transient: another attempt holds the claim to send this e-mail and has not marked it sent (it is
 * sending, or died before it could). Thrown so that the caller is retried: by then the e-mail was
 * sent, or the claim let go or gone stale.
 */
export class EmailSendInProgress extends Error {
  override name = 'EmailSendInProgress';
}

/**
 * Transient: SES refused the e-mail for now (throttling, a service error, no answer). Thrown so that
 * the caller is retried, for as long as a send claim lasts; a permanent refusal keeps SES's own name.
 */
export class EmailSendDeferred extends Error {
  override name = 'EmailSendDeferred';
}

/** The invoice has its number but its PDF or e-mail could not be delivered (after capture: for ops). */
export class InvoiceNotDelivered extends Error {
  override name = 'InvoiceNotDelivered';
}

/** The order was closed without its invoice while its request waited for a number: it is never issued. */
export class InvoiceWithdrawn extends DomainError {
  override name = 'InvoiceWithdrawn';
}

/**
 * A credit note cannot be issued as asked: more than the invoice's uncredited amount (or, on account,
 * its outstanding amount), an unknown SKU, or nothing left to credit. The message says which.
 */
export class CreditNoteRefused extends DomainError {
  override name = 'CreditNoteRefused';
}

/** A payment on account cannot be recorded: more than outstanding, a card-paid invoice, a reused reference. */
export class PaymentRefused extends DomainError {
  override name = 'PaymentRefused';
  constructor(
    message: string,
    readonly reason: 'exceeds_outstanding' | 'not_on_account' | 'not_open' | 'reference_reused',
  ) {
    super(message);
  }
}

/** An approver rejected the order (SendTaskFailure of AwaitApproval): a business outcome, the order is REJECTED. */
export class ApprovalRejected extends DomainError {
  override name = 'ApprovalRejected';
}

/** No stock arrived for any line of a backordered order before its backorder expired: the order is cancelled. */
export class BackorderExpired extends DomainError {
  override name = 'BackorderExpired';
}

/**
 * The order was cancelled (POST /orders/{orderId}/cancel): a forward step refuses to act, and the
 * workflow compensates (void, release, credit back) and ends the order CANCELLED.
 */
export class OrderCancelled extends DomainError {
  override name = 'OrderCancelled';
  constructor(orderId: string) {
    super(`Order ${orderId} was cancelled`);
  }
}

/** The carrier reported the parcel lost (SendTaskFailure of AwaitDelivery): the order fails and is compensated. */
export class ShipmentLost extends DomainError {
  override name = 'ShipmentLost';
}

/** A workflow task got input its schema refuses: a defect in the state machine or a caller, never retried. */
export class InvalidTaskInput extends DomainError {
  override name = 'InvalidTaskInput';
}

/** A sender or recipient is not a valid e-mail address. The message names its position, never the address. */
export class InvalidEmailAddress extends DomainError {
  override name = 'InvalidEmailAddress';
}

/** Setting onHand below what is reserved there would take reserved goods away. */
export class StockBelowReserved extends DomainError {
  override name = 'StockBelowReserved';
  constructor(
    readonly sku: string,
    readonly warehouseId: string,
    readonly reserved: number,
  ) {
    super(`${sku} in ${warehouseId}: ${reserved} are reserved for orders; on hand cannot be set below that`);
  }
}

/** An Idempotency-Key already used for a different adjustment of this product. */
export class AdjustmentKeyReused extends DomainError {
  override name = 'AdjustmentKeyReused';
}

/** A write-off larger than what is available (not reserved) there. */
export class WriteOffExceedsAvailable extends DomainError {
  override name = 'WriteOffExceedsAvailable';
  constructor(
    readonly sku: string,
    readonly warehouseId: string,
    readonly available: number,
  ) {
    super(`${sku} in ${warehouseId}: only ${available} available (not reserved); cannot write off more`);
  }
}

/** A credit note's request id was first used with another body: the first note stands, this one is not issued. */
export class CreditNoteRequestReused extends DomainError {
  override name = 'CreditNoteRequestReused';
}

/** A list cursor this API did not give out. */
export class InvalidCursor extends DomainError {
  override name = 'InvalidCursor';
}

/** An order search that cannot be run as asked (a window that is reversed or too long to walk day by day). */
export class InvalidSearch extends DomainError {
  override name = 'InvalidSearch';
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path} ${p.message}`).join('; '));
  }
}
