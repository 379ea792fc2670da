import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod/mini';
import { EmailSendDeferred, EmailSendInProgress } from '../core/errors.ts';
import { ORDER_ID_PATTERN } from '../core/schemas.ts';
import { logger, logOrder, observedHandler } from './powertools.ts';

export interface Issue {
  path: string;
  message: string;
}

/** An error that becomes `{ error: { code, message, issues } }` with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
  ) {
    super(message);
    this.name = code;
  }
}

export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function issuesOf(error: z.core.$ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
}

/** Parses a value against a schema or answers 400 naming every field that is wrong. */
export function parseOr400<S extends z.ZodMiniType>(schema: S, value: unknown, what = 'request'): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new HttpError(
      400,
      'ValidationError',
      `The ${what} is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return parsed.data;
}

/**
 * Path parameters are checked by name, so an error names `orderId` or `sku` rather than the body.
 * The value is URL-decoded by API Gateway (and the local API) before it gets here.
 */
export function pathParameter<S extends z.ZodMiniType>(
  event: APIGatewayProxyEventV2,
  name: string,
  schema: S,
): z.output<S> {
  const value = event.pathParameters?.[name];
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({
    path: [name, ...issue.path.map(String)].join('.'),
    message: value === undefined ? 'is required' : issue.message,
  }));
  throw new HttpError(
    400,
    'ValidationError',
    `The path parameter ${name} is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
    issues,
  );
}

/** The largest request body any route accepts (bytes, after base64 decoding). */
export const MAX_BODY_BYTES = 256 * 1024;

/** Size of the body as the client sent it, without decoding or copying it. */
export function bodyBytes(event: APIGatewayProxyEventV2): number {
  if (!event.body) return 0;
  return Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

export function rawBody(event: APIGatewayProxyEventV2): string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const text = rawBody(event);
  if (text.trim() === '')
    throw new HttpError(400, 'ValidationError', 'The request body is empty; send JSON', [
      { path: '(body)', message: 'is required' },
    ]);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'InvalidJson', 'The request body is not valid JSON', [
      { path: '(body)', message: 'is not valid JSON' },
    ]);
  }
}

/**
 * A route handler: HttpErrors become their response, anything else a logged 500 that reveals nothing.
 * A route whose path names an order logs it on every line (a valid id only: the path is the caller's text).
 */
export function httpRoute(
  run: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  return observedHandler(async (event: APIGatewayProxyEventV2, context: Context) => {
    const orderId = event.pathParameters?.orderId;
    if (orderId !== undefined && ORDER_ID_PATTERN.test(orderId)) logOrder(orderId);
    try {
      // Checked here rather than left to the gateway, so AWS and the local API answer the same.
      if (bodyBytes(event) > MAX_BODY_BYTES) {
        throw new HttpError(413, 'PayloadTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes`, [
          { path: '(body)', message: `must be at most ${MAX_BODY_BYTES} bytes` },
        ]);
      }
      return await run(event, context);
    } catch (error) {
      if (error instanceof HttpError) {
        return json(error.statusCode, { error: { code: error.code, message: error.message, issues: error.issues } });
      }
      // Another request is sending this e-mail and has not confirmed it: retrying soon finishes the job.
      // Or SES did not take it for now: the same request again (same key or reference) sends it, once.
      if (error instanceof EmailSendInProgress || error instanceof EmailSendDeferred) {
        return json(
          503,
          {
            error: {
              code: error.name,
              message:
                error instanceof EmailSendInProgress
                  ? 'An e-mail of this request is being sent; try again shortly'
                  : 'An e-mail of this request could not be sent yet; try again shortly',
              issues: [],
            },
          },
          { 'retry-after': '5' },
        );
      }
      // Name and code only: messages and stacks of SES, DynamoDB or our own errors may hold personal data.
      logger.error('Unhandled error in route', { routeKey: event.routeKey, ...errorLabel(error) });
      return json(500, {
        error: { code: 'InternalError', message: 'Something went wrong on our side; it has been logged', issues: [] },
      });
    }
  });
}

/** What may be logged of an error: its name and code, never its message (which may hold an address). */
export function errorLabel(error: unknown): { errorName: string; errorCode?: string } {
  const name = error instanceof Error ? error.name : typeof error;
  const code = (error as { code?: unknown; Code?: unknown } | undefined)?.code ?? (error as { Code?: unknown })?.Code;
  return { errorName: name, ...(typeof code === 'string' ? { errorCode: code } : {}) };
}
