import type { SellerDetails } from './schemas.ts';

/**
 * The seller's legal details, printed on every invoice and credit note (§14 UStG / Art. 226 VAT
 * Directive: name, address, VAT id, registration) with the bank account customers on account pay to.
 */
export const SELLER: SellerDetails = {
  legalName: 'Sales Orders GmbH',
  address: ['Friedrichstraße 68', '10117 Berlin', 'Germany'],
  vatId: 'DE123456789',
  registration: 'Amtsgericht Berlin-Charlottenburg HRB 123456 B',
  bank: { name: 'Berliner Sparkasse', iban: 'DE89 3704 0044 0532 0130 00', bic: 'BELADEBEXXX' },
  email: 'billing@sales-orders.example',
};
