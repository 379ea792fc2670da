import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { feedbackRequestEmail } from '../../functions/core/emails.ts';
import {
  FEEDBACK_TOKEN_TTL_SECONDS,
  FeedbackAnswer,
  FeedbackReceivedDetail,
  feedbackLink,
  feedbackOf,
  feedbackReceivedDetail,
  feedbackToken,
  repeatOf,
  verifyFeedbackToken,
} from '../../functions/core/feedback.ts';
import { FEEDBACK_PAGE_HEADERS, feedbackFormPage, feedbackMessagePage } from '../../functions/core/feedback-page.ts';

// Every call goes to the real function; the spy only tells whether the comparison went through it.
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const SECRET = 'feedback-secret';
const ORDER_ID = 'ord-01jd0000000000000000000000';
const now = new Date('2026-11-29T10:00:00Z');
const expiresAt = new Date(now.getTime() + FEEDBACK_TOKEN_TTL_SECONDS * 1000);

beforeEach(() => {
  vi.mocked(crypto.timingSafeEqual).mockClear();
});

describe('survey token', () => {
  const token = feedbackToken(SECRET, ORDER_ID, expiresAt);

  it('names the order and its expiry, nothing else, and verifies with the secret it was signed with', () => {
    expect(token).toMatch(/^ord-01jd0000000000000000000000\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(token.split('.')[1]).toBe(String(expiresAt.getTime() / 1000));
    expect(verifyFeedbackToken(SECRET, token, now)).toEqual({ ok: true, orderId: ORDER_ID, expiresAt });
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(1);
  });

  it('refuses a token whose order, expiry or signature was changed, or that another secret signed', () => {
    const [orderId, expires, signature] = token.split('.') as [string, string, string];
    const other = 'ord-01jd0000000000000000000001';
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    for (const tampered of [
      `${other}.${expires}.${signature}`,
      `${orderId}.${Number(expires) + 86_400}.${signature}`,
      `${orderId}.${expires}.${flipped}`,
      feedbackToken('another-secret', ORDER_ID, expiresAt),
    ]) {
      expect(verifyFeedbackToken(SECRET, tampered, now), tampered).toEqual({ ok: false, reason: 'signature' });
    }
    // Each signature was compared in constant time, never with ===.
    expect(crypto.timingSafeEqual).toHaveBeenCalledTimes(4);
  });

  it('refuses malformed tokens before any comparison', () => {
    for (const malformed of [
      '',
      'hello',
      `${ORDER_ID}.${expiresAt.getTime() / 1000}`,
      `${token}.extra`,
      token.replace('ord-', 'ORD-'),
      `${token.slice(0, -1)}=`,
      `${token} `,
      `../${token}`,
    ]) {
      expect(verifyFeedbackToken(SECRET, malformed, now), malformed).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(crypto.timingSafeEqual).not.toHaveBeenCalled();
  });

  it('expires at its expiry, told apart from a forged token only when genuine', () => {
    const justBefore = new Date(expiresAt.getTime() - 1000);
    expect(verifyFeedbackToken(SECRET, token, justBefore).ok).toBe(true);
    expect(verifyFeedbackToken(SECRET, token, expiresAt)).toEqual({
      ok: false,
      reason: 'expired',
      orderId: ORDER_ID,
      expiresAt,
    });
    // A forged token past its "expiry" is a forgery, not an expired link.
    const forged = feedbackToken('guess', ORDER_ID, new Date(now.getTime() - 1000));
    expect(verifyFeedbackToken(SECRET, forged, now)).toEqual({ ok: false, reason: 'signature' });
  });

  it('makes one link per score, relative to the configured base URL', () => {
    expect(feedbackLink('http://127.0.0.1:3000/', token, 7)).toBe(`http://127.0.0.1:3000/feedback/${token}?score=7`);
    expect(feedbackLink('https://api.example.com', token)).toBe(`https://api.example.com/feedback/${token}`);
  });
});

describe('survey answer', () => {
  const issues = (value: unknown) =>
    FeedbackAnswer.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];

  it('takes a whole score 0-10 and an optional comment, trimmed, at most 1000 characters', () => {
    expect(FeedbackAnswer.parse({ score: 0 })).toEqual({ score: 0 });
    expect(FeedbackAnswer.parse({ score: 10, comment: '  Fast delivery.\nThanks!  ' })).toEqual({
      score: 10,
      comment: 'Fast delivery.\nThanks!',
    });
    // Blank is no comment; 1000 characters after trimming is the most.
    expect(FeedbackAnswer.parse({ score: 5, comment: '   ' })).toEqual({ score: 5 });
    expect(FeedbackAnswer.parse({ score: 5, comment: ` ${'x'.repeat(1000)} ` }).comment).toHaveLength(1000);
  });

  it('names the field that is wrong', () => {
    expect(issues({ score: 11 })).toEqual(['score: must be a whole number from 0 to 10']);
    expect(issues({ score: -1 })).toEqual(['score: must be a whole number from 0 to 10']);
    expect(issues({ score: 7.5 })).toEqual(['score: must be a whole number from 0 to 10']);
    expect(issues({ score: '7' })).toEqual(['score: must be a whole number from 0 to 10']);
    expect(issues({})).toEqual(['score: must be a whole number from 0 to 10']);
    expect(issues({ score: 7, comment: 'x'.repeat(1001) })).toEqual(['comment: must be at most 1000 characters']);
    expect(issues({ score: 7, comment: 'bell\u0007' })).toEqual([
      'comment: must not contain control characters other than line breaks',
    ]);
    expect(issues({ score: 7, comment: 42 })[0]).toMatch(/^comment: /);
  });

  it('is kept with its NPS group, and published without the comment', () => {
    const at = new Date('2026-12-01T08:30:00Z');
    const cases: [number, string][] = [
      [0, 'detractor'],
      [6, 'detractor'],
      [7, 'passive'],
      [8, 'passive'],
      [9, 'promoter'],
      [10, 'promoter'],
    ];
    for (const [score, group] of cases) expect(feedbackOf({ score }, at).group, String(score)).toBe(group);
    const stored = feedbackOf({ score: 9, comment: 'Great' }, at);
    expect(stored).toEqual({ score: 9, group: 'promoter', comment: 'Great', answeredAt: at.toISOString() });
    const placedAt = '2026-11-20T09:00:00.000Z';
    const detail = feedbackReceivedDetail({ orderId: ORDER_ID, customerId: 'CUST-1002', createdAt: placedAt }, stored);
    expect(detail).toEqual({
      version: 1,
      eventId: `feedback:${ORDER_ID}`,
      orderId: ORDER_ID,
      customerId: 'CUST-1002',
      occurredAt: at.toISOString(),
      placedAt,
      score: 9,
      group: 'promoter',
    });
    expect(FeedbackReceivedDetail.parse(detail)).toEqual(detail);
    expect(FeedbackReceivedDetail.safeParse({ ...detail, comment: 'Great' }).success).toBe(false);
  });

  it('tells a retry after a failed publish (same answer, not published) from a second answer', () => {
    const stored = feedbackOf({ score: 8, comment: 'ok' }, now);
    expect(repeatOf(stored, { score: 8, comment: 'ok' })).toBe('republish');
    expect(repeatOf(stored, { score: 9, comment: 'ok' })).toBe('conflict');
    expect(repeatOf(stored, { score: 8 })).toBe('conflict');
    expect(repeatOf({ ...stored, publishedAt: now.toISOString() }, { score: 8, comment: 'ok' })).toBe('conflict');
  });
});

describe('survey e-mail and page', () => {
  const token = feedbackToken(SECRET, ORDER_ID, expiresAt);
  const links = Array.from({ length: 11 }, (_, score) => feedbackLink('http://127.0.0.1:3000', token, score));

  it('asks one question with one link per score, in text and HTML, escaping the name', () => {
    const email = feedbackRequestEmail({
      customerName: 'Jane <Doe> & Co',
      orderId: ORDER_ID,
      links,
      expiresAt,
      sellerName: 'Sales Orders GmbH',
    });
    expect(email.subject).toBe(`Order ${ORDER_ID}: how did we do?`);
    expect(email.text).toContain('How likely are you to recommend us');
    expect(email.text).toContain(`until ${expiresAt.toISOString().slice(0, 10)}`);
    for (const link of links) {
      expect(email.text).toContain(link);
      expect(email.html).toContain(`href="${link}"`);
    }
    expect(email.html).toContain('Jane &lt;Doe&gt; &amp; Co');
    expect(email.html).not.toContain('<Doe>');
  });

  it('preselects the score of the link and posts to the same path; its script and style are allowed by hash only', () => {
    const html = feedbackFormPage(ORDER_ID, 7);
    expect(html.match(/ checked/g)).toHaveLength(1);
    expect(html).toContain('value="7" checked');
    expect(feedbackFormPage(ORDER_ID).match(/ checked/g)).toBeNull();
    expect(html).toContain("fetch(location.pathname,{method:'POST'");
    expect(html).toContain('maxlength="1000"');
    const csp = FEEDBACK_PAGE_HEADERS['content-security-policy'] as string;
    const script = /<script>([\s\S]*)<\/script>/.exec(html)?.[1] as string;
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] as string;
    const digest = (text: string) => crypto.createHash('sha256').update(text).digest('base64');
    expect(csp).toContain(`script-src 'sha256-${digest(script)}'`);
    expect(csp).toContain(`style-src 'sha256-${digest(style)}'`);
    expect(csp).toContain("default-src 'none'");
    expect(FEEDBACK_PAGE_HEADERS['referrer-policy']).toBe('no-referrer');
    expect(FEEDBACK_PAGE_HEADERS['cache-control']).toBe('no-store');
    expect(feedbackMessagePage('Sorry', '<b>x</b>')).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});
