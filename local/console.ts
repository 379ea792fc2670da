import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HttpApiRoute } from './http-api.ts';

/**
 * The local ops console (`GET /console`): static HTML, ES modules and CSS from local/console/, and a
 * same-origin pass-through to the three local endpoints the page reads besides the order API: the
 * issuer's token endpoint, the Step Functions API (read operations only) and the SES mailbox. The
 * page thus needs no CORS on the emulators and no knowledge of their ports (tests use free ones).
 * Requests are forwarded unchanged (method, body, content type, authorization, target) and answered
 * with the endpoint's status and body. Local runtime only: nothing here is deployed.
 */

export const CONSOLE_DIR = fileURLToPath(new URL('./console/', import.meta.url));

export interface ConsoleEndpoints {
  stepfunctions: string;
  ses: string;
  auth: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** What the console reads of an execution; starting, stopping or answering tasks is not the page's business. */
export const CONSOLE_SFN_OPERATIONS = new Set([
  'AWSStepFunctions.DescribeExecution',
  'AWSStepFunctions.DescribeStateMachine',
  'AWSStepFunctions.GetExecutionHistory',
  'AWSStepFunctions.ListStateMachines',
]);

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // Scripts, styles and data only from this origin: no inline script can run, whatever the data holds.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
};

const text = (statusCode: number, body: string, contentType = 'text/plain; charset=utf-8') =>
  ({ statusCode, headers: { 'content-type': contentType, ...SECURITY_HEADERS }, body }) as const;

const bodyOf = (event: APIGatewayProxyEventV2): string | undefined =>
  event.body === undefined
    ? undefined
    : event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString()
      : event.body;

async function forward(
  url: string,
  event: APIGatewayProxyEventV2,
  headerNames: string[],
): Promise<APIGatewayProxyStructuredResultV2> {
  const headers: Record<string, string> = {};
  for (const name of headerNames) {
    const value = event.headers[name];
    if (value !== undefined) headers[name] = value;
  }
  const response = await fetch(url, { method: event.requestContext.http.method, headers, body: bodyOf(event) });
  return text(response.status, await response.text(), response.headers.get('content-type') ?? 'application/json');
}

export function consoleRoutes(endpoints: ConsoleEndpoints): HttpApiRoute[] {
  // The files are read once: the set of names is fixed, so a path never reaches the file system.
  const files = new Map(
    readdirSync(CONSOLE_DIR)
      .filter((name) => extname(name) in CONTENT_TYPES)
      .map((name) => [name, readFileSync(join(CONSOLE_DIR, name), 'utf8')]),
  );
  const serve = (name: string) => {
    const file = files.get(name);
    return file === undefined ? text(404, 'Not Found') : text(200, file, CONTENT_TYPES[extname(name)] as string);
  };
  return [
    { routeKey: 'GET /console', invoke: async () => serve('index.html') },
    { routeKey: 'GET /console/{file+}', invoke: async (event) => serve(event.pathParameters?.file ?? '') },
    {
      routeKey: 'POST /console/oauth2/token',
      invoke: (event) => forward(`${endpoints.auth}/oauth2/token`, event, ['authorization', 'content-type']),
    },
    {
      routeKey: 'POST /console/states',
      invoke: async (event) => {
        const target = event.headers['x-amz-target'] ?? '';
        if (!CONSOLE_SFN_OPERATIONS.has(target))
          return text(403, JSON.stringify({ __type: 'AccessDeniedException', message: `${target} is not a read` }));
        return forward(endpoints.stepfunctions, event, ['x-amz-target', 'content-type']);
      },
    },
    {
      routeKey: 'GET /console/ses/store',
      invoke: (event) => {
        const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
        return forward(`${endpoints.ses}/store${query}`, event, []);
      },
    },
  ];
}
