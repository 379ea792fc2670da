import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Mailer } from '../../functions/adapters/mailer.ts';
import { httpRoute, json } from '../../functions/lib/http.ts';
import { checkoutHttpEvent, lambdaContext } from '../support/lambda-events.ts';

Object.assign(process.env, { AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'INFO' });
const ses = mockClient(SESv2Client);

/** Everything the function writes to its log streams while `run` runs. */
async function logsOf(run: () => Promise<unknown>): Promise<string> {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
  const log = vi.spyOn(console, 'error').mockImplementation((...args) => void written.push(args.join(' ')));
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
    log.mockRestore();
  }
  return written.join('\n');
}

const route = (to: string) =>
  httpRoute(async () => {
    await new Mailer('shop@example.com').send({ to: [to], subject: 'Receipt', text: 'Thank you' });
    return json(200, {});
  });

describe('unhandled route errors in the logs', () => {
  beforeEach(() => ses.reset());
  afterEach(() => ses.reset());

  it('name the error but never the address the mailer refused', async () => {
    let response: unknown;
    const logs = await logsOf(async () => {
      response = await route('jane.doe@@example.com')(checkoutHttpEvent(), lambdaContext);
    });
    expect(response).toMatchObject({ statusCode: 500 });
    expect(logs).toContain('InvalidEmailAddress');
    expect(logs).not.toContain('@');
  });

  it('name the error but never the address in an SES rejection', async () => {
    ses
      .on(SendEmailCommand)
      .rejects(
        Object.assign(new Error('Email address is not verified: jane.doe@example.com'), { name: 'MessageRejected' }),
      );
    const logs = await logsOf(() => route('jane.doe@example.com')(checkoutHttpEvent(), lambdaContext));
    expect(logs).toContain('MessageRejected');
    expect(logs).not.toContain('@');
  });

  it('answer SES throttling or a service fault 503 EmailSendDeferred (retry the same request), a permanent refusal 500', async () => {
    const refusals = [
      [Object.assign(new Error('Maximum sending rate exceeded'), { name: 'TooManyRequestsException' }), 503],
      [Object.assign(new Error('Service unavailable'), { name: 'InternalFailure', $fault: 'server' }), 503],
      [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), 503],
      [Object.assign(new Error('getaddrinfo ENOTFOUND email.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }), 503],
      [Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }), 503],
      [Object.assign(new Error('Email address is not verified'), { name: 'MessageRejected', $fault: 'client' }), 500],
    ] as const;
    for (const [error, status] of refusals) {
      ses.reset();
      ses.on(SendEmailCommand).rejects(error);
      const response = (await route('jane.doe@example.com')(checkoutHttpEvent(), lambdaContext)) as {
        statusCode: number;
        headers?: Record<string, string>;
        body: string;
      };
      expect(response.statusCode, error.name).toBe(status);
      if (status === 503) {
        expect(JSON.parse(response.body).error.code).toBe('EmailSendDeferred');
        expect(response.headers?.['retry-after']).toBe('5');
      }
    }
  });
});
