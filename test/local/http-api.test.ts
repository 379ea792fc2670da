import { request } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningHttpApi, startHttpApi } from '../../local/http-api.ts';

/** Every route answers with the route key it was selected as and the event it received. */
const echo = (routeKey: string) => ({
  routeKey,
  invoke: async (event: APIGatewayProxyEventV2) => ({ statusCode: 200, body: JSON.stringify({ routeKey, event }) }),
});

type Echo = { routeKey: string; event: APIGatewayProxyEventV2 };

describe('local HTTP API', () => {
  let api: RunningHttpApi;
  const received: APIGatewayProxyEventV2[] = [];

  beforeAll(async () => {
    api = await startHttpApi({
      apiId: 'abc123',
      routes: [
        echo('GET /orders/{orderId}'),
        echo('POST /orders'),
        echo('GET /pets/dog/1'),
        echo('GET /pets/dog/{id}'),
        echo('ANY /pets/dog/{id}'),
        echo('GET /pets/{proxy+}'),
        echo('ANY /{proxy+}'),
        echo('$default'),
        {
          routeKey: 'GET /results/structured',
          invoke: async () => ({
            statusCode: 201,
            headers: { 'X-Custom': 'yes', 'content-type': 'text/plain' },
            cookies: ['a=1; Path=/', 'b=2'],
            body: 'created',
          }),
        },
        {
          routeKey: 'GET /results/binary',
          invoke: async () => ({
            statusCode: 200,
            headers: { 'content-type': 'application/octet-stream' },
            body: Buffer.from([0, 1, 2, 255]).toString('base64'),
            isBase64Encoded: true,
          }),
        },
        { routeKey: 'GET /results/object', invoke: async () => ({ orderId: 'o-1', total: 3 }) },
        { routeKey: 'GET /results/string', invoke: async () => 'Hello from Lambda!' },
        {
          routeKey: 'GET /results/throws',
          invoke: async () => {
            throw new Error('handler failed');
          },
        },
        {
          routeKey: 'POST /upload',
          invoke: async (event) => {
            received.push(event);
            return { statusCode: 204 };
          },
        },
      ],
    });
  });

  afterAll(async () => {
    await api?.close();
  });

  const call = async (path: string, init?: RequestInit): Promise<Echo> => {
    const response = await fetch(`${api.url}${path}`, init);
    expect(response.status).toBe(200);
    return (await response.json()) as Echo;
  };

  it('builds a payload format 2.0 event', async () => {
    const before = Date.now();
    const { event } = await call('/orders/o%2D42?status=open&tag=a&tag=b%20c&flag', {
      headers: { 'User-Agent': 'test-agent', 'X-Request-Id': 'r-1', Cookie: 'session=s1; theme=dark' },
    });
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /orders/{orderId}',
      rawPath: '/orders/o%2D42',
      rawQueryString: 'status=open&tag=a&tag=b%20c&flag',
      cookies: ['session=s1', 'theme=dark'],
      queryStringParameters: { status: 'open', tag: 'a,b c', flag: '' },
      pathParameters: { orderId: 'o-42' },
      isBase64Encoded: false,
      requestContext: {
        accountId: expect.any(String),
        apiId: 'abc123',
        domainName: `127.0.0.1:${api.port}`,
        domainPrefix: 'abc123',
        http: {
          method: 'GET',
          path: '/orders/o%2D42',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test-agent',
        },
        routeKey: 'GET /orders/{orderId}',
        stage: '$default',
      },
    });
    expect(event.headers).toMatchObject({
      'user-agent': 'test-agent',
      'x-request-id': 'r-1',
      'x-forwarded-for': '127.0.0.1',
    });
    expect(event.headers.cookie).toBeUndefined();
    expect(event.body).toBeUndefined();
    expect(event.stageVariables).toBeUndefined();
    expect(event.requestContext.requestId).toBeTruthy();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(event.requestContext.timeEpoch).toBeGreaterThanOrEqual(before);
    expect(event.requestContext.timeEpoch).toBeLessThanOrEqual(Date.now());
  });

  it('joins repeated headers with commas', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: api.port, path: '/orders/1', headers: { 'X-Multi': ['one', 'two'] } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect((JSON.parse(body) as Echo).event.headers['x-multi']).toBe('one,two');
  });

  it.each([
    ['GET', '/pets/dog/1', 'GET /pets/dog/1', undefined],
    ['GET', '/pets/dog/2', 'GET /pets/dog/{id}', { id: '2' }],
    ['DELETE', '/pets/dog/2', 'ANY /pets/dog/{id}', { id: '2' }],
    ['GET', '/pets/cat/1', 'GET /pets/{proxy+}', { proxy: 'cat/1' }],
    ['POST', '/pets/cat/1', 'ANY /{proxy+}', { proxy: 'pets/cat/1' }],
    ['POST', '/orders', 'POST /orders', undefined],
    ['GET', '/orders', 'ANY /{proxy+}', { proxy: 'orders' }],
    ['OPTIONS', '/orders/1', 'ANY /{proxy+}', { proxy: 'orders/1' }],
    ['GET', '/', '$default', undefined],
  ])('routes %s %s to %s', async (method, path, routeKey, pathParameters) => {
    const result = await call(path, { method });
    expect(result.routeKey).toBe(routeKey);
    expect(result.event.routeKey).toBe(routeKey);
    expect(result.event.pathParameters).toEqual(pathParameters);
  });

  it('routes HEAD like any other method', async () => {
    const response = await fetch(`${api.url}/orders/1`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('passes text bodies as text and binary bodies as base64', async () => {
    received.length = 0;
    const json = JSON.stringify({ orderId: 'o-1', note: 'ünïcode' });
    const binary = Buffer.from([0, 159, 146, 150, 255]);
    const post = (body: string | Buffer, contentType: string) =>
      fetch(`${api.url}/upload`, { method: 'POST', body, headers: { 'content-type': contentType } });
    expect((await post(json, 'application/json; charset=utf-8')).status).toBe(204);
    expect((await post(binary, 'application/octet-stream')).status).toBe(204);
    expect((await post('a=1&b=2', 'application/x-www-form-urlencoded')).status).toBe(204);
    expect((await post('<a/>', 'application/problem+xml')).status).toBe(204);

    expect(received[0]).toMatchObject({ body: json, isBase64Encoded: false });
    expect(received[1]).toMatchObject({ body: binary.toString('base64'), isBase64Encoded: true });
    expect(received[2]).toMatchObject({ body: Buffer.from('a=1&b=2').toString('base64'), isBase64Encoded: true });
    expect(received[3]).toMatchObject({ body: '<a/>', isBase64Encoded: false });
  });

  it('maps a structured result, with cookies becoming set-cookie headers', async () => {
    const response = await fetch(`${api.url}/results/structured`);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-custom')).toBe('yes');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2']);
    expect(response.headers.get('apigw-requestid')).toBeTruthy();
    expect(await response.text()).toBe('created');
  });

  it('decodes base64 result bodies', async () => {
    const response = await fetch(`${api.url}/results/binary`);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('treats a result without statusCode as a 200 JSON body', async () => {
    const object = await fetch(`${api.url}/results/object`);
    expect(object.status).toBe(200);
    expect(object.headers.get('content-type')).toBe('application/json');
    expect(await object.json()).toEqual({ orderId: 'o-1', total: 3 });

    const text = await fetch(`${api.url}/results/string`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toBe('application/json');
    expect(await text.text()).toBe('Hello from Lambda!');
  });

  it('answers 500 when the function throws, and logs the error', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const response = await fetch(`${api.url}/results/throws`);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ message: 'Internal Server Error' });
      expect(errors).toHaveBeenCalledOnce();
    } finally {
      errors.mockRestore();
    }
  });

  it('rejects bodies over 10 MB with 413', async () => {
    const response = await fetch(`${api.url}/upload`, {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 97),
      headers: { 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(413);
    const ok = await fetch(`${api.url}/upload`, {
      method: 'POST',
      body: Buffer.alloc(10 * 1024 * 1024, 97),
      headers: { 'content-type': 'text/plain' },
    });
    expect(ok.status).toBe(204);
  });

  it('answers 404 when no route matches and there is no $default route', async () => {
    const small = await startHttpApi({
      apiId: 'small',
      routes: [echo('GET /orders/{orderId}'), echo('ANY /{proxy+}')],
    });
    try {
      const root = await fetch(`${small.url}/`);
      expect(root.status).toBe(404);
      expect(await root.json()).toEqual({ message: 'Not Found' });
      const deep = await fetch(`${small.url}/orders/1/lines/2`, { method: 'PUT' });
      expect(((await deep.json()) as Echo).routeKey).toBe('ANY /{proxy+}');
    } finally {
      await small.close();
    }
  });

  it('serves a named stage under its path prefix', async () => {
    const staged = await startHttpApi({ apiId: 'staged', stage: 'prod', routes: [echo('GET /orders/{orderId}')] });
    try {
      expect(staged.url).toMatch(/\/prod$/);
      const response = await fetch(`${staged.url}/orders/7`);
      const { event } = (await response.json()) as Echo;
      expect(event).toMatchObject({ rawPath: '/prod/orders/7', pathParameters: { orderId: '7' } });
      expect(event.requestContext.stage).toBe('prod');
      const outside = await fetch(staged.url.replace(/\/prod$/, '/orders/7'));
      expect(outside.status).toBe(404);
    } finally {
      await staged.close();
    }
  });

  it('refuses invalid or duplicate route keys', async () => {
    const invoke = async () => ({});
    await expect(startHttpApi({ apiId: 'x', routes: [{ routeKey: 'GET orders', invoke }] })).rejects.toThrow(
      /route key/,
    );
    await expect(startHttpApi({ apiId: 'x', routes: [{ routeKey: 'GET /{proxy+}/x', invoke }] })).rejects.toThrow(
      /Greedy/,
    );
    await expect(
      startHttpApi({
        apiId: 'x',
        routes: [
          { routeKey: 'GET /a', invoke },
          { routeKey: 'GET /a', invoke },
        ],
      }),
    ).rejects.toThrow(/Duplicate/);
  });
});

describe('local HTTP API under overload', () => {
  let api: RunningHttpApi;
  let calls = 0;

  beforeAll(async () => {
    const answer = async () => {
      calls++;
      return { statusCode: 202, body: '{}' };
    };
    api = await startHttpApi({
      apiId: 'busy',
      routes: [
        { routeKey: 'POST /orders', invoke: answer },
        { routeKey: 'GET /console', invoke: answer },
      ],
      // As the stage's settings arrive from the template: POST /orders only.
      throttling: { 'POST /orders': { rateLimit: 20, burstLimit: 10 } },
    });
  });
  afterAll(() => api.close());

  const post = () => fetch(`${api.url}/orders`, { method: 'POST', body: '{}' });

  it('answers a burst above the bucket 429 with API Gateway’s body, and serves again after the refill', async () => {
    calls = 0;
    const answers = await Promise.all(Array.from({ length: 30 }, post));
    const statuses = answers.map((r) => r.status);
    // The burst, plus what the rate refilled while the 30 arrived.
    expect(statuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 202).length).toBeLessThan(15);
    expect(statuses.filter((s) => s !== 202 && s !== 429)).toEqual([]);
    const throttled = answers.find((r) => r.status === 429) as Response;
    expect(throttled.headers.get('content-type')).toBe('application/json');
    expect(await throttled.json()).toEqual({ message: 'Too Many Requests' });
    // A throttled request never reaches the function.
    expect(calls).toBe(statuses.filter((s) => s === 202).length);
    // Routes outside the stage's settings are not throttled.
    const local = await Promise.all(Array.from({ length: 30 }, () => fetch(`${api.url}/console`)));
    expect(local.map((r) => r.status)).toEqual(Array(30).fill(202));
    // 20 tokens a second: after 300 ms there are about 6.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202);
  });

  it('answers every one of 1,000 connections opened while the event loop is busy, resetting none', async () => {
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    const requests = Array.from(
      { length: 1_000 },
      () =>
        new Promise<void>((resolve) => {
          const req = request(`${api.url}/console`, { agent: false }, (res) => {
            count(String(res.statusCode));
            res.resume().on('end', resolve);
          });
          req.on('error', (error: NodeJS.ErrnoException) => {
            count(error.code ?? error.message);
            resolve();
          });
          req.end();
        }),
    );
    // The connections are opened on the next turn of the loop; then the loop is busy, as when a
    // function runs, and the kernel completes the handshakes with nobody accepting them.
    await new Promise((resolve) => setImmediate(resolve));
    const busyUntil = performance.now() + 1_000;
    while (performance.now() < busyUntil);
    await Promise.all(requests);
    expect(Object.fromEntries(outcomes)).toEqual({ 202: 1_000 });
  });
});
