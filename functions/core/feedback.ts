import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import { type NpsGroup, npsGroupOf } from './kpi-figures.ts';
import { lazySchema } from './lazy-schema.ts';
import { NpsScore, type OrderFeedback, OrderId, Timestamp } from './schemas.ts';

/**
 * The customer satisfaction survey after delivery: the signed token of the e-mailed links, what an
 * answer is, and the event it publishes. Pure: the handlers read the secret and the clock.
 *
 * Token: `<orderId>.<expires, unix seconds>.<signature>`, the signature being the unpadded base64url
 * HMAC-SHA256 of `feedback.v1.<orderId>.<expires>` under the feedback secret. It names the order and
 * nothing else about the customer; whoever holds it may answer for that order, once.
 */
export const FEEDBACK_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
export const FEEDBACK_COMMENT_MAX = 1000;
export const NPS_SCORES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;

const TOKEN_SHAPE = /^(ord-[0-9a-z]{26})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

const signature = (secret: string, orderId: string, expires: number) =>
  createHmac('sha256', secret).update(`feedback.v1.${orderId}.${expires}`).digest('base64url');

/** A token for the order's survey links, valid until `expiresAt` (whole seconds). */
export function feedbackToken(secret: string, orderId: string, expiresAt: Date): string {
  const expires = Math.floor(expiresAt.getTime() / 1000);
  return `${orderId}.${expires}.${signature(secret, orderId, expires)}`;
}

export type TokenCheck =
  | { ok: true; orderId: string; expiresAt: Date }
  | { ok: false; reason: 'malformed' | 'signature' }
  | { ok: false; reason: 'expired'; orderId: string; expiresAt: Date };

/**
 * Checks a token: its shape, then its signature (compared in constant time), then its expiry, so
 * an expired token is told apart only when it is genuine.
 */
export function verifyFeedbackToken(secret: string, token: string, now: Date): TokenCheck {
  const match = TOKEN_SHAPE.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, orderId, expiresText, given] = match as unknown as [string, string, string, string];
  const expires = Number(expiresText);
  const expected = Buffer.from(signature(secret, orderId, expires));
  const actual = Buffer.from(given);
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual))
    return { ok: false, reason: 'signature' };
  const expiresAt = new Date(expires * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired', orderId, expiresAt };
  return { ok: true, orderId, expiresAt };
}

/** The survey link for one score: a GET that shows the form with the score chosen (it records nothing). */
export function feedbackLink(baseUrl: string, token: string, score?: number): string {
  const base = `${baseUrl.replace(/\/+$/, '')}/feedback/${token}`;
  return score === undefined ? base : `${base}?score=${score}`;
}

/** Line breaks and tabs are fine in a comment (a text box); other control characters are not. */
const hasOtherControlCharacters = (value: string) =>
  [...value].some((char) => {
    const code = char.codePointAt(0) ?? 0;
    if (code === 0x0a || code === 0x0d || code === 0x09) return false;
    return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029;
  });

/** POST /feedback/{token}: the score, and an optional comment (trimmed; empty is none). */
export const FeedbackAnswer = /* @__PURE__ */ lazySchema(() =>
  z.object({
    score: NpsScore,
    comment: z.optional(
      z.pipe(
        z.string().check(
          z.refine(
            (value) => !hasOtherControlCharacters(value),
            'must not contain control characters other than line breaks',
          ),
          z.trim(),
          z.maxLength(FEEDBACK_COMMENT_MAX, `must be at most ${FEEDBACK_COMMENT_MAX} characters`),
        ),
        z.transform((value) => (value === '' ? undefined : value)),
      ),
    ),
  }),
);
export type FeedbackAnswer = z.infer<typeof FeedbackAnswer>;

/** `?score=N` of a survey link: absent, or a score. */
export const FeedbackScoreParameter = /* @__PURE__ */ lazySchema(() =>
  z.optional(
    z.pipe(z.string().check(z.regex(/^(10|[0-9])$/, 'must be a whole number from 0 to 10')), z.transform(Number)),
  ),
);

export function feedbackOf(answer: FeedbackAnswer, at: Date): OrderFeedback {
  return {
    score: answer.score,
    group: npsGroupOf(answer.score),
    ...(answer.comment !== undefined ? { comment: answer.comment } : {}),
    answeredAt: at.toISOString(),
  };
}

/**
 * What a POST that finds an answer already stored means: the same answer whose event was not yet
 * published is the retry of a request that failed half-way (answer success); any other is a second
 * answer (409). Either way, a stored answer still unpublished is published first (the stored one).
 */
export function repeatOf(stored: OrderFeedback, answer: FeedbackAnswer): 'republish' | 'conflict' {
  const same = stored.score === answer.score && (stored.comment ?? undefined) === (answer.comment ?? undefined);
  return same && stored.publishedAt === undefined ? 'republish' : 'conflict';
}

/**
 * The `FeedbackReceived` event's detail: ids, the score and its group, never the comment (strict: no
 * other field can slip in). The event catalog's entry for FeedbackReceived is this schema.
 */
export const FeedbackReceivedDetail = /* @__PURE__ */ lazySchema(() =>
  z.strictObject({
    version: z.literal(1),
    eventId: z.string(),
    orderId: OrderId,
    customerId: z.string(),
    occurredAt: Timestamp,
    /** When the answered order was placed: the NPS counts the answer with the orders placed that day. */
    placedAt: Timestamp,
    score: NpsScore,
    group: z.enum(['promoter', 'passive', 'detractor']),
  }),
);
export type FeedbackReceivedDetail = z.infer<typeof FeedbackReceivedDetail>;

export function feedbackReceivedDetail(
  order: { orderId: string; customerId: string; createdAt: string },
  feedback: Pick<OrderFeedback, 'score' | 'group' | 'answeredAt'>,
): FeedbackReceivedDetail {
  return {
    version: 1,
    eventId: `feedback:${order.orderId}`,
    orderId: order.orderId,
    customerId: order.customerId,
    occurredAt: feedback.answeredAt,
    placedAt: order.createdAt,
    score: feedback.score,
    group: feedback.group as NpsGroup,
  };
}
