import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  errorOf,
  isTransient,
  objectPath,
  resetS3Connection,
  S3_MAX_ATTEMPTS,
  S3Error,
  s3Send,
} from '../../functions/adapters/clients/s3.ts';

const ACCESS_KEY = 'AKIDEXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const REGION = 'eu-central-1';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Checks a request's SigV4 signature the way S3 does, written from AWS's description of the algorithm
 * (canonical request, string to sign, derived key), not from the SDK's signer: the path as sent, the
 * signed headers' trimmed values, the payload hash the request declares. Returns what is wrong, or ''.
 */
function signatureProblem(request: Received): string {
  const auth = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
    String(request.headers.authorization),
  );
  if (!auth) return `no SigV4 authorization header: ${request.headers.authorization}`;
  const [, credential, signedHeaders, signature] = auth as unknown as [string, string, string, string];
  const [key, date, region, service, terminator] = credential.split('/');
  if (key !== ACCESS_KEY || region !== REGION || service !== 's3' || terminator !== 'aws4_request')
    return `credential scope ${credential}`;
  const amzDate = String(request.headers['x-amz-date']);
  if (!amzDate.startsWith(date as string)) return `x-amz-date ${amzDate} outside the scope's day ${date}`;
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256'))
    return `signed headers ${signedHeaders}`;
  // S3 refuses x-amz-* headers sent but not signed.
  const unsigned = Object.keys(request.headers).filter((h) => h.startsWith('x-amz-') && !names.includes(h));
  if (unsigned.length > 0) return `unsigned ${unsigned.join(', ')}`;
  const declared = String(request.headers['x-amz-content-sha256']);
  if (/^[0-9a-f]{64}$/.test(declared) && declared !== hex(request.body)) return `payload hash ${declared}`;
  const canonicalHeaders = names
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const [sent = '', query = ''] = request.path.split('?');
  // The path as S3 rebuilds it: each segment decoded, then encoded by AWS's UriEncode (RFC 3986 unreserved kept).
  const uriEncode = (text: string) =>
    [...Buffer.from(text, 'utf8')]
      .map((byte) =>
        /[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte))
          ? String.fromCharCode(byte)
          : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('');
  const path = sent
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
  if (path !== sent) return `path ${sent} is not encoded as S3 encodes it (${path})`;
  const canonicalQuery = query
    .split('&')
    .filter(Boolean)
    .map((pair) => (pair.includes('=') ? pair : `${pair}=`))
    .sort()
    .join('&');
  const canonicalRequest = [
    request.method,
    path,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders,
    String(request.headers['x-amz-content-sha256']),
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hex(canonicalRequest)].join('\n');
  const signingKey = ['s3', 'aws4_request'].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(`AWS4${SECRET_KEY}`, date as string), region as string),
  );
  const expected = createHmac('sha256', signingKey).update(toSign).digest('hex');
  return expected === signature ? '' : `signature ${signature} is not ${expected}`;
}

let server: Server;
let endpoint: string;
const received: Received[] = [];
/**
 * The answers the server gives next, in order; 200 with an empty body when none is left. `stall`: no
 * answer at all, or headers and part of the body, then silence.
 */
let answers: { status: number; body?: string; stall?: 'answer' | 'body' }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const answer = answers.shift() ?? { status: 200, body: '' };
      if (answer.stall === 'answer') return;
      if (answer.stall === 'body') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only ten b');
        return;
      }
      res.writeHead(answer.status, { 'content-type': 'application/xml' });
      res.end(req.method === 'HEAD' ? undefined : answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: SECRET_KEY,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_S3: endpoint,
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE; // a profile would win over the variables in the credential chain
  delete process.env.AWS_MAX_ATTEMPTS;
});

afterAll(async () => {
  resetS3Connection();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  resetS3Connection();
  received.length = 0;
  answers = [];
});

const errorXml = (code: string, message = 'for the test') =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>R1</RequestId></Error>`;

describe('the S3 REST client', () => {
  it("signs like the SDK's S3 client: the checker accepts the SDK's own requests, and refuses one changed after signing", async () => {
    const sdk = new S3Client({
      region: REGION,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    });
    await sdk.send(new PutObjectCommand({ Bucket: 'docs', Key: 'invoices/2026/INV 1+é.pdf', Body: 'pdf bytes' }));
    await sdk.send(new HeadBucketCommand({ Bucket: 'docs' }));
    sdk.destroy();
    expect(received.map(signatureProblem)).toEqual(['', '']);
    // Its key encoding is ours (it adds an `x-id` query naming the operation).
    expect(received[0]?.path.split('?')[0]).toBe(objectPath('docs', 'invoices/2026/INV 1+é.pdf'));
    const tampered = { ...(received[0] as Received), path: '/docs/invoices/2026/other.pdf' };
    expect(signatureProblem(tampered)).toMatch(/^signature /);
  });

  it('puts an object: path-style, the key encoded per segment, content type and length, the signed payload hash', async () => {
    const body = new TextEncoder().encode('%PDF-1.7 invoice');
    await s3Send({
      method: 'PUT',
      bucket: 'docs',
      key: 'invoices/2026/INV 1+é.pdf',
      body,
      contentType: 'application/pdf',
    });
    const [put] = received as [Received];
    expect(put.method).toBe('PUT');
    expect(put.path).toBe('/docs/invoices/2026/INV%201%2B%C3%A9.pdf');
    expect(put.headers['content-type']).toBe('application/pdf');
    expect(put.headers['content-length']).toBe(String(body.byteLength));
    expect(put.body.equals(Buffer.from(body))).toBe(true);
    expect(put.headers['x-amz-content-sha256']).toBe(hex(Buffer.from(body)));
    expect(signatureProblem(put)).toBe('');
  });

  it('gets an object as bytes, and heads a bucket, both signed', async () => {
    answers = [{ status: 200, body: 'the stored bytes' }];
    const got = await s3Send({ method: 'GET', bucket: 'docs', key: 'a/b.pdf' });
    expect(new TextDecoder().decode(got)).toBe('the stored bytes');
    await s3Send({ method: 'HEAD', bucket: 'docs' });
    expect(received.map((r) => [r.method, r.path, signatureProblem(r)])).toEqual([
      ['GET', '/docs/a/b.pdf', ''],
      ['HEAD', '/docs', ''],
    ]);
  });

  it('signs the session token of temporary credentials (as Lambda has them)', async () => {
    process.env.AWS_SESSION_TOKEN = 'session-token-of-the-role';
    try {
      await s3Send({ method: 'HEAD', bucket: 'docs' });
    } finally {
      delete process.env.AWS_SESSION_TOKEN;
    }
    const [head] = received as [Received];
    expect(head.headers['x-amz-security-token']).toBe('session-token-of-the-role');
    expect(String(head.headers.authorization)).toContain('x-amz-security-token');
    expect(signatureProblem(head)).toBe('');
  });

  it('retries throttling and server errors with the same request, up to the attempts the SDK makes', async () => {
    answers = [
      { status: 503, body: errorXml('SlowDown') },
      { status: 500, body: errorXml('InternalError') },
    ];
    const body = new TextEncoder().encode('bytes');
    await s3Send({ method: 'PUT', bucket: 'docs', key: 'k.pdf', body, contentType: 'application/pdf' });
    expect(received).toHaveLength(3);
    expect(received.every((r) => r.body.equals(Buffer.from(body)) && signatureProblem(r) === '')).toBe(true);

    received.length = 0;
    answers = Array.from({ length: S3_MAX_ATTEMPTS }, () => ({ status: 503, body: errorXml('SlowDown', 'Reduce') }));
    const error = await s3Send({ method: 'GET', bucket: 'docs', key: 'k.pdf' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ name: 'SlowDown', message: 'Reduce', $metadata: { httpStatusCode: 503 } });
    expect(received).toHaveLength(S3_MAX_ATTEMPTS);
  });

  it('does not retry what another attempt cannot change; the error is named by its S3 code', async () => {
    answers = [{ status: 404, body: errorXml('NoSuchKey', 'The specified key does not exist.') }];
    const error = await s3Send({ method: 'GET', bucket: 'docs', key: 'gone.pdf' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    answers = [{ status: 404 }];
    expect(await s3Send({ method: 'HEAD', bucket: 'nobucket' }).catch((e: unknown) => e)).toMatchObject({
      name: 'NotFound',
    });
    expect(received).toHaveLength(2);
  });

  it('gives up on an answer that does not come, or stops halfway, and retries it (a stalled connection)', async () => {
    resetS3Connection({ connectMs: 1_000, requestMs: 300 });
    answers = [
      { status: 0, stall: 'answer' },
      { status: 0, stall: 'body' },
      { status: 200, body: 'at last' },
    ];
    const got = await s3Send({ method: 'GET', bucket: 'docs', key: 'k.pdf' });
    expect(new TextDecoder().decode(got)).toBe('at last');
    expect(received).toHaveLength(3);

    answers = Array.from({ length: S3_MAX_ATTEMPTS }, () => ({ status: 0, stall: 'answer' as const }));
    const error = await s3Send({ method: 'HEAD', bucket: 'docs' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(received).toHaveLength(3 + S3_MAX_ATTEMPTS);
  });

  it("makes the SDK's AWS_MAX_ATTEMPTS attempts when it is set (the local fault mode sets it)", async () => {
    process.env.AWS_MAX_ATTEMPTS = '1';
    resetS3Connection();
    try {
      answers = [{ status: 503, body: errorXml('SlowDown') }];
      expect(await s3Send({ method: 'GET', bucket: 'docs', key: 'k.pdf' }).catch((e: unknown) => e)).toMatchObject({
        name: 'SlowDown',
      });
      expect(received).toHaveLength(1);
    } finally {
      delete process.env.AWS_MAX_ATTEMPTS;
    }
  });

  it('retries a connection refused, then gives up with it', async () => {
    process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9';
    resetS3Connection();
    try {
      const error = await s3Send({ method: 'HEAD', bucket: 'docs' }).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('ECONNREFUSED');
    } finally {
      process.env.AWS_ENDPOINT_URL_S3 = endpoint;
    }
  });
});

describe('S3 error classification', () => {
  it.each([
    [503, 'SlowDown', true],
    [429, 'TooManyRequests', true],
    [502, 'BadGateway', true],
    [501, 'NotImplemented', false],
    [500, 'InternalError', true],
    [400, 'RequestTimeout', true],
    [403, 'AccessDenied', false],
    [404, 'NoSuchKey', false],
    [400, 'InvalidArgument', false],
  ])('%i %s transient: %s', (status, code, transient) => {
    expect(isTransient(errorOf(status, errorXml(code)))).toBe(transient);
  });

  it('retries the network errors the SDK retries, DNS included', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH'])
      expect(isTransient(Object.assign(new Error('network'), { code }))).toBe(true);
    expect(isTransient(Object.assign(new Error('timed out'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTransient(new Error('a bug'))).toBe(false);
  });

  it('names a body-less error by its status', () => {
    expect(errorOf(404, '').name).toBe('NotFound');
    expect(errorOf(403, '').name).toBe('Forbidden');
    expect(errorOf(502, '').name).toBe('InternalError');
  });

  it("encodes a key's segments as S3 signs them (RFC 3986), keeping its slashes", () => {
    expect(objectPath('b', "a b/c+d/(e)!*'~.pdf")).toBe('/b/a%20b/c%2Bd/%28e%29%21%2A%27~.pdf');
    expect(objectPath('b')).toBe('/b');
  });
});
