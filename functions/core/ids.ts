import { createHash } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

/**
 * The order id for a capture: `ord-` + 26 base32 characters (130 bits) of a hash of the channel, whose
 * key it is (the caller, or an import's customer) and the key. One key is one order, for good: a retried intake finds the order it
 * already wrote instead of creating a second one, and a different submission under the key finds it
 * too and is refused (submissionHash). The id is a valid Step Functions execution name, which it doubles as.
 */
export function orderIdFor(channel: string, keyScope: string, idempotencyKey: string): string {
  // JSON, not a join: `a:b` + `c` and `a` + `b:c` must not name the same order.
  const digest = createHash('sha256')
    .update(JSON.stringify([channel, keyScope, idempotencyKey]))
    .digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 17)) bits = (bits << 8n) | BigInt(byte);
  bits >>= 6n; // 136 -> 130 bits
  let id = '';
  for (let i = 0; i < 26; i++) {
    id = ALPHABET[Number(bits & 31n)] + id;
    bits >>= 5n;
  }
  return `ord-${id}`;
}

/** What a capture's key is bound to: a hash of the submission, stored on the order it created. */
export function submissionHash(submission: unknown): string {
  return createHash('sha256').update(JSON.stringify(submission)).digest('base64url');
}
