import { createHmac, timingSafeEqual } from 'node:crypto';

/** Webhook signatures older or newer than this are refused, so a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function signPayload(secret: string, timestamp: number | string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifySignature(args: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  nowSeconds: number;
}): SignatureCheck {
  const { secret, timestamp, signature, rawBody, nowSeconds } = args;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'X-Timestamp is missing or not unix seconds' };
  if (!signature) return { ok: false, reason: 'X-Signature is missing' };
  if (!/^sha256=[0-9a-f]{64}$/.test(signature))
    return { ok: false, reason: 'X-Signature is not sha256=<64 lower-case hex digits>' };
  if (Math.abs(nowSeconds - Number(timestamp)) > SIGNATURE_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'X-Timestamp is outside the allowed 5 minute window' };
  }
  const expected = Buffer.from(signPayload(secret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'X-Signature does not match' };
  }
  return { ok: true };
}
