import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** A Lambda context for handler unit tests. */
export const lambdaContext = {
  functionName: 'test',
  awsRequestId: 'r',
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

/** An HTTP API (payload v2) event as API Gateway passes it after the JWT authorizer let the web checkout in. */
export const checkoutHttpEvent = (overrides: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({
    version: '2.0',
    routeKey: 'POST /x',
    rawPath: '/x',
    rawQueryString: '',
    headers: {},
    isBase64Encoded: false,
    requestContext: {
      authorizer: {
        jwt: {
          claims: { client_id: 'checkout', sub: 'checkout', scope: 'sales/orders.place sales/orders.read' },
          scopes: ['sales/orders.place', 'sales/orders.read'],
        },
      },
    },
    ...overrides,
  }) as APIGatewayProxyEventV2;
