const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/**
 * `ord-` + a ULID (48-bit time, 80 random bits): unique, sortable by creation time, and a
 * valid Step Functions execution name, which is what the order id doubles as.
 */
export function newOrderId(now: Date, randomBytes: Uint8Array): string {
  if (randomBytes.length < 10) throw new RangeError('need 10 random bytes');
  let time = now.getTime();
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = ALPHABET[time % 32] + timePart;
    time = Math.floor(time / 32);
  }
  let bits = 0n;
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(randomBytes[i] ?? 0);
  let randomPart = '';
  for (let i = 0; i < 16; i++) {
    randomPart = ALPHABET[Number(bits & 31n)] + randomPart;
    bits >>= 5n;
  }
  return `ord-${timePart}${randomPart}`;
}
