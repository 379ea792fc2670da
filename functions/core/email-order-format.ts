/**
 * What the reply to an order e-mail says about its format and its problems. Apart from the parser
 * (email-order.ts), so that the e-mail texts do not bring the CSV parser into every function that sends mail.
 */

/** Where a problem is, as the sender can find it: `line 4`, `orders.csv line 2`; absent: the whole order. */
export interface EmailProblem {
  where?: string;
  message: string;
}

/** What an order e-mail may contain, for the error reply and the README. */
export const EMAIL_ORDER_FORMAT = [
  'One item a line: SKU x QUANTITY, optionally @ UNIT PRICE in cents, e.g.',
  '  WIDGET-BLUE x 2',
  '  GADGET-MINI x 1 @ 3900',
  'Optional lines:',
  '  Reference: <your purchase-order number>',
  '  Payment: card | on_account   (default: your account terms)',
  '  Policy: all_or_nothing | ship_available   (default: all_or_nothing)',
  'Blank lines are ignored; reading stops at your signature ("-- ") or a quoted reply (">").',
  'Or attach a CSV file with the columns sku,quantity[,unitPrice] (a header row is optional).',
].join('\n');

/** A problem as one line of the error reply. */
export const problemLine = (problem: EmailProblem) =>
  problem.where ? `${problem.where}: ${problem.message}` : problem.message;
