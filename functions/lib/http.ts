import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger, tracer } from './powertools.ts';

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

export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(body)', message: issue.message }));
}

/** Parses a value against a schema or answers 400 naming every field that is wrong. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what = 'request'): z.output<S> {
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

/** A route handler: HttpErrors become their response, anything else a logged 500 that reveals nothing. */
export function httpRoute(
  run: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>,
) {
  return middy(async (event: APIGatewayProxyEventV2, context: Context) => {
    try {
      return await run(event, context);
    } catch (error) {
      if (error instanceof HttpError) {
        return json(error.statusCode, { error: { code: error.code, message: error.message, issues: error.issues } });
      }
      logger.error('Unhandled error in route', { routeKey: event.routeKey, error: error as Error });
      return json(500, {
        error: { code: 'InternalError', message: 'Something went wrong on our side; it has been logged', issues: [] },
      });
    }
  })
    .use(captureLambdaHandler(tracer, { captureResponse: false })) // responses hold personal data
    .use(injectLambdaContext(logger, { resetKeys: true }));
}
