import type { TaxCategory, TaxProfile, TaxTreatment } from './schemas.ts';

/**
 * VAT for a seller established in Germany (DE) that ships goods from Germany.
 *
 * | case                                                     | treatment        | rate                   |
 * |----------------------------------------------------------|------------------|------------------------|
 * | customer is tax-exempt                                   | `exempt`         | 0 %                    |
 * | destination outside the EU (CH, GB, US, …)               | `export`         | 0 % (zero-rated)       |
 * | destination DE                                           | `domestic`       | DE rate of the category|
 * | other EU destination, VAT id of another member state     | `reverse_charge` | 0 %, buyer accounts    |
 * | other EU destination, VAT id from DE                     | `domestic`       | DE rate (no exemption) |
 * | other EU destination, no VAT id (B2C distance sale, OSS) | `intra_eu_b2c`   | destination rate       |
 *
 * Goods delivered within Germany are a German supply whoever buys them, so a foreign VAT id does not
 * make a DE delivery reverse charge. An intra-Community supply is exempt only when the buyer's VAT id
 * is from a member state other than the one the goods leave (DE); a buyer with a German VAT id pays
 * German VAT. The tax point is the shipping address.
 */

/** The EU member states (ISO 3166-1 alpha-2). */
export const EU_MEMBER_STATES: ReadonlySet<string> = new Set([
  'AT',
  'BE',
  'BG',
  'CY',
  'CZ',
  'DE',
  'DK',
  'EE',
  'ES',
  'FI',
  'FR',
  'GR',
  'HR',
  'HU',
  'IE',
  'IT',
  'LT',
  'LU',
  'LV',
  'MT',
  'NL',
  'PL',
  'PT',
  'RO',
  'SE',
  'SI',
  'SK',
]);

export const SELLER_COUNTRY = 'DE';

/**
 * VAT rates in basis points (1900 = 19 %) by EU destination and tax category. `reduced` is the main
 * reduced rate for goods (food, books); Denmark has none, so its goods carry the standard rate. B2C
 * orders to an EU country not listed here are refused rather than invoiced with a guessed rate.
 */
export const VAT_RATES_BASIS_POINTS: Readonly<Record<string, Readonly<Record<TaxCategory, number>>>> = {
  AT: { standard: 2000, reduced: 1000, zero: 0 },
  BE: { standard: 2100, reduced: 600, zero: 0 },
  DE: { standard: 1900, reduced: 700, zero: 0 },
  DK: { standard: 2500, reduced: 2500, zero: 0 },
  ES: { standard: 2100, reduced: 1000, zero: 0 },
  FI: { standard: 2550, reduced: 1400, zero: 0 },
  FR: { standard: 2000, reduced: 550, zero: 0 },
  IE: { standard: 2300, reduced: 1350, zero: 0 },
  IT: { standard: 2200, reduced: 1000, zero: 0 },
  NL: { standard: 2100, reduced: 900, zero: 0 },
  PL: { standard: 2300, reduced: 800, zero: 0 },
  PT: { standard: 2300, reduced: 600, zero: 0 },
  SE: { standard: 2500, reduced: 1200, zero: 0 },
};

/** The VAT rate of a category in an EU country, or undefined when we have no rates for it. */
export function vatRateFor(country: string, category: TaxCategory = 'standard'): number | undefined {
  return VAT_RATES_BASIS_POINTS[country]?.[category];
}

/** A VAT id's member state: its prefix, except Greece's `EL`. */
export function vatIdCountry(vatId: string): string {
  const prefix = vatId.slice(0, 2).toUpperCase();
  return prefix === 'EL' ? 'GR' : prefix;
}

// Made on first use: ICU's region names take about 10 ms to load, paid by every cold start otherwise.
let regionNames: Intl.DisplayNames | undefined;
/** Region codes ICU knows that are not countries (or are reserved), so no destination. */
const NOT_COUNTRIES = new Set(['EU', 'EZ', 'UN', 'QO', 'UK', 'ZZ']);

/** Whether a two-letter code is an assigned ISO 3166-1 country code (ICU echoes unknown codes back). */
export function isCountryCode(code: string): boolean {
  if (!/^[A-Z]{2}$/.test(code) || NOT_COUNTRIES.has(code)) return false;
  regionNames ??= new Intl.DisplayNames(['en'], { type: 'region' });
  return regionNames.of(code) !== code;
}

export type TaxDecision =
  | { ok: true; treatment: TaxTreatment; rateFor: (category: TaxCategory) => number }
  | { ok: false; reason: string };

const ZERO = () => 0;

/** The VAT treatment of an order shipped to `destination` for a customer with this tax profile. */
export function taxTreatmentFor(destination: string, profile: TaxProfile): TaxDecision {
  if (!isCountryCode(destination)) return { ok: false, reason: `${destination} is not a country code` };
  if (profile.exempt) return { ok: true, treatment: 'exempt', rateFor: ZERO };
  if (!EU_MEMBER_STATES.has(destination)) return { ok: true, treatment: 'export', rateFor: ZERO };
  const sellerRates = ratesOf(SELLER_COUNTRY);
  if (destination === SELLER_COUNTRY) return { ok: true, treatment: 'domestic', rateFor: sellerRates };
  if (profile.vatId) {
    const idCountry = vatIdCountry(profile.vatId);
    if (idCountry === SELLER_COUNTRY) return { ok: true, treatment: 'domestic', rateFor: sellerRates };
    if (EU_MEMBER_STATES.has(idCountry)) return { ok: true, treatment: 'reverse_charge', rateFor: ZERO };
  }
  if (!VAT_RATES_BASIS_POINTS[destination]) {
    return { ok: false, reason: `we have no VAT rates for ${destination} and cannot sell to consumers there` };
  }
  return { ok: true, treatment: 'intra_eu_b2c', rateFor: ratesOf(destination) };
}

function ratesOf(country: string): (category: TaxCategory) => number {
  return (category) => vatRateFor(country, category) ?? 0;
}

/** Amount × basis points / 10 000, rounded half up (commercial rounding); used for tax and discounts. */
export function basisPointsOf(amount: number, basisPoints: number): number {
  return Math.floor((amount * basisPoints + 5_000) / 10_000);
}

/** Tax on a net amount in minor units, rounded half up. */
export function taxOn(amount: number, rateBasisPoints: number): number {
  return basisPointsOf(amount, rateBasisPoints);
}

/** The legal note an invoice carries for a zero-rated treatment; none for taxed ones. */
export function taxNote(treatment: TaxTreatment | undefined): string | undefined {
  switch (treatment) {
    case 'reverse_charge':
      return 'Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)';
    case 'export':
      return 'Export delivery outside the EU: zero-rated (Art. 146 Directive 2006/112/EC)';
    case 'exempt':
      return 'VAT exempt: the customer is exempt from VAT';
    default:
      return undefined;
  }
}
