/** `EUR 1,234.50` from 123450 minor units. Two decimals: every currency we price in has cents. */
export function formatMoney(minorUnits: number, currency: string): string {
  const sign = minorUnits < 0 ? '-' : '';
  const abs = Math.abs(minorUnits);
  const major = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${currency} ${major}.${String(abs % 100).padStart(2, '0')}`;
}

export function formatRate(basisPoints: number): string {
  return `${(basisPoints / 100).toFixed(basisPoints % 100 === 0 ? 0 : 2)}%`;
}
