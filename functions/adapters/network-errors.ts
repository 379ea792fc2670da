/**
 * The network errors the AWS SDK retries (its NODEJS_NETWORK_ERROR_CODES, DNS included) and its HTTP
 * handler's timeouts: no answer came, so another attempt may get one.
 */
const NETWORK_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
]);

/** Whether the error is a connection that broke, failed or went silent (by its `code` or its `name`). */
export function isNetworkError(error: unknown): boolean {
  const e = (error ?? {}) as { code?: string; name?: string };
  return NETWORK_ERRORS.has(e.code ?? '') || NETWORK_ERRORS.has(e.name ?? '');
}
