import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, DEFAULT_HIGH_VALUE_THRESHOLDS, parseThresholds } from '../core/approval.ts';

/**
 * Reads deployment configuration once, at module load: a missing variable fails the
 * function's INIT with a clear message instead of failing each request later.
 */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
}

export function optionalEnv(name: string, fallback: string): string {
  const value = process.env[name];
  return value === undefined || value === '' ? fallback : value;
}

export function numberEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`Environment variable ${name} must be a number, got "${raw}"`);
  return value;
}

/**
 * Approval settings (ValidateOrder, RequestApproval): the high-value thresholds per currency
 * (`HIGH_VALUE_THRESHOLDS=EUR=500000,USD=550000`, minor units; default EUR 5,000.00) and how long an
 * order waits for an approver (`APPROVAL_TIMEOUT_SECONDS`, default 48 h). Set from CDK context.
 */
export function approvalConfig(): { thresholds: Record<string, number>; timeoutSeconds: number } {
  const raw = process.env.HIGH_VALUE_THRESHOLDS;
  const thresholds = raw === undefined || raw === '' ? { ...DEFAULT_HIGH_VALUE_THRESHOLDS } : parseThresholds(raw);
  const timeoutSeconds = numberEnv('APPROVAL_TIMEOUT_SECONDS', DEFAULT_APPROVAL_TIMEOUT_SECONDS);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
    throw new Error('APPROVAL_TIMEOUT_SECONDS must be a whole number of seconds, at least 1');
  return { thresholds, timeoutSeconds };
}
