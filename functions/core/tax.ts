/**
 * Standard VAT rates by destination, in basis points (1900 = 19 %). Orders to a destination
 * not listed here are rejected rather than invoiced with a guessed rate.
 */
export const VAT_RATES_BASIS_POINTS: Readonly<Record<string, number>> = {
  AT: 2000,
  BE: 2100,
  DE: 1900,
  DK: 2500,
  ES: 2100,
  FI: 2550,
  FR: 2000,
  GB: 2000,
  IE: 2300,
  IT: 2200,
  NL: 2100,
  PL: 2300,
  PT: 2300,
  SE: 2500,
};

export function vatRateFor(country: string): number | undefined {
  return VAT_RATES_BASIS_POINTS[country];
}

/** Tax on an amount in minor units, rounded half up (commercial rounding) per line. */
export function taxOn(amount: number, rateBasisPoints: number): number {
  return Math.floor((amount * rateBasisPoints + 5_000) / 10_000);
}
