import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningIssuer, startIssuer, type TokenGenerationEvent } from '../../local/auth/issuer.ts';
import { jwtAuthorizer, VERIFIED_TOKENS } from '../../local/auth/verifier.ts';
import { type RunningHttpApi, startHttpApi } from '../../local/http-api.ts';

/**
 * The local OAuth2 issuer (Cognito's token endpoint) and the local JWT authorizer (API Gateway's),
 * over real HTTP: a token from the issuer opens a route with the right scope; everything else
 * is 401 or 403 as API Gateway answers.
 */
const ISSUER = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool';
let issuer: RunningIssuer;
let shortLived: RunningIssuer;
let api: RunningHttpApi;
const triggerEvents: TokenGenerationEvent[] = [];

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function tokenRequest(
  body: string,
  headers: Record<string, string> = {},
  target: RunningIssuer = issuer,
): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${target.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const tokenFor = async (id: string, scope?: string, target = issuer) =>
  (
    await tokenRequest(
      `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
      { authorization: basic(id, `${id}-secret`) },
      target,
    )
  ).body.access_token as string;

const call = async (path: string, authorization?: string) => {
  const response = await fetch(`${api.url}${path}`, { headers: authorization ? { authorization } : {} });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

const clients = [
  { clientId: 'machine', secret: 'machine-secret', allowedScopes: ['api/read', 'api/write'], clientCredentials: true },
  { clientId: 'stranger', secret: 'stranger-secret', allowedScopes: ['api/read'], clientCredentials: true },
  { clientId: 'browser', secret: 'browser-secret', allowedScopes: ['api/read'], clientCredentials: false },
];

beforeAll(async () => {
  issuer = await startIssuer({
    issuer: ISSUER,
    region: 'us-east-1',
    userPoolId: 'us-east-1_TestPool',
    clients,
    preTokenGeneration: async (event) => {
      triggerEvents.push(structuredClone(event));
      event.response.claimsAndScopeOverrideDetails = {
        accessTokenGeneration: { claimsToAddOrOverride: { tenant: 't-1', iss: 'forged' } },
      };
      return event;
    },
  });
  shortLived = await startIssuer({
    issuer: ISSUER,
    region: 'us-east-1',
    userPoolId: 'us-east-1_TestPool',
    clients,
    tokenLifetimeSeconds: 1,
  });
  const keys = createRemoteJWKSet(new URL(issuer.jwksUrl));
  const authorize = jwtAuthorizer(
    { issuer: ISSUER, audience: ['machine', 'browser'], identitySource: ['$request.header.Authorization'] },
    keys,
  );
  const echo = async (event: APIGatewayProxyEventV2) => ({
    statusCode: 200,
    body: JSON.stringify({
      authorizer: (event.requestContext as unknown as Record<string, unknown>).authorizer ?? null,
    }),
  });
  api = await startHttpApi({
    apiId: 'auth',
    routes: [
      { routeKey: 'GET /read', invoke: echo, authorization: { authorize, scopes: ['api/read', 'api/admin'] } },
      { routeKey: 'GET /admin', invoke: echo, authorization: { authorize, scopes: ['api/admin'] } },
      { routeKey: 'GET /any-token', invoke: echo, authorization: { authorize, scopes: [] } },
      { routeKey: 'GET /public', invoke: echo },
    ],
  });
});

afterAll(async () => {
  await api?.close();
  await issuer?.close();
  await shortLived?.close();
});

describe('local issuer: POST /oauth2/token as Cognito answers it', () => {
  it('issues an RS256 access token with Cognito claims for the client-credentials grant', async () => {
    const response = await tokenRequest('grant_type=client_credentials&scope=api%2Fread', {
      authorization: basic('machine', 'machine-secret'),
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ access_token: expect.any(String), expires_in: 3600, token_type: 'Bearer' });
    const [header, payload] = (response.body.access_token as string)
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
    expect(header).toEqual({ alg: 'RS256', kid: issuer.jwks.keys[0]?.kid });
    expect(payload).toMatchObject({
      iss: ISSUER,
      client_id: 'machine',
      sub: 'machine',
      token_use: 'access',
      scope: 'api/read',
      tenant: 't-1',
    });
    expect(payload.aud).toBeUndefined(); // Cognito access tokens carry client_id, not aud
    expect(payload.exp - payload.iat).toBe(3600);
  });

  it('grants every allowed scope when none is asked for, and runs the trigger with them', async () => {
    triggerEvents.length = 0;
    const token = await tokenFor('machine');
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
    expect(payload.scope).toBe('api/read api/write');
    expect(payload.iss).toBe(ISSUER); // the trigger may not override reserved claims
    expect(triggerEvents[0]).toMatchObject({
      version: '3',
      triggerSource: 'TokenGeneration_ClientCredentials',
      callerContext: { clientId: 'machine' },
      request: { scopes: ['api/read', 'api/write'] },
    });
  });

  it('accepts the client secret in the body too (client_secret_post)', async () => {
    const response = await tokenRequest('grant_type=client_credentials&client_id=machine&client_secret=machine-secret');
    expect(response.status).toBe(200);
  });

  it.each([
    ['a wrong secret', 'grant_type=client_credentials', basic('machine', 'guess'), 'invalid_client'],
    ['an unknown client', 'grant_type=client_credentials', basic('nobody', 'x'), 'invalid_client'],
    ['no client authentication', 'grant_type=client_credentials', undefined, 'invalid_client'],
    ['no grant type', 'scope=api%2Fread', basic('machine', 'machine-secret'), 'invalid_request'],
    ['another grant type', 'grant_type=password', basic('machine', 'machine-secret'), 'unsupported_grant_type'],
    [
      'a scope the client is not allowed',
      'grant_type=client_credentials&scope=api%2Fadmin',
      basic('machine', 'machine-secret'),
      'invalid_scope',
    ],
    [
      'a client without the client-credentials flow',
      'grant_type=client_credentials',
      basic('browser', 'browser-secret'),
      'unauthorized_client',
    ],
  ])('refuses %s with 400 %s', async (_, body, authorization, error) => {
    const response = await tokenRequest(body, authorization ? { authorization } : {});
    expect(response).toEqual({ status: 400, body: { error } });
  });

  it('refuses a body that is not form-encoded', async () => {
    const response = await fetch(`${issuer.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic('machine', 'machine-secret') },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: 'invalid_request' });
  });

  it('publishes its public key (and no private part) at the JWKS endpoint', async () => {
    const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });
});

describe('local JWT authorizer: what API Gateway lets through', () => {
  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());

  it('passes a valid token with one of the route scopes, and hands the claims to the function as API Gateway does', async () => {
    const token = await tokenFor('machine', 'api/read');
    const response = await call('/read', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body.authorizer.jwt.scopes).toEqual(['api/read']);
    expect(response.body.authorizer.jwt.claims).toMatchObject({
      client_id: 'machine',
      scope: 'api/read',
      exp: String(claims(token).exp), // API Gateway passes every claim as a string
    });
    // API Gateway accepts the token with or without the Bearer prefix.
    expect((await call('/read', token)).status).toBe(200);
  });

  it('answers 403 Forbidden to a valid token without any of the route scopes', async () => {
    expect(await call('/admin', `Bearer ${await tokenFor('machine')}`)).toEqual({
      status: 403,
      body: { message: 'Forbidden' },
    });
  });

  it('needs no scope on a JWT route without AuthorizationScopes, and nothing on a public route', async () => {
    expect((await call('/any-token', `Bearer ${await tokenFor('machine', 'api/write')}`)).status).toBe(200);
    const open = await call('/public');
    expect(open).toEqual({ status: 200, body: { authorizer: null } });
  });

  it('answers 401 to a token whose client is not in the audience', async () => {
    expect(await call('/read', `Bearer ${await tokenFor('stranger')}`)).toEqual({
      status: 401,
      body: { message: 'Unauthorized' },
    });
  });

  it('answers 401 to an expired token', async () => {
    const token = await tokenFor('machine', undefined, shortLived);
    // shortLived signs with its own key: check expiry with a token the trusted issuer signed.
    expect((await call('/read', `Bearer ${token}`)).status).toBe(401);
    const trusted = await startIssuer({
      issuer: ISSUER,
      region: 'us-east-1',
      userPoolId: 'us-east-1_TestPool',
      clients,
      tokenLifetimeSeconds: 1,
    });
    try {
      const authorize = jwtAuthorizer(
        { issuer: ISSUER, audience: ['machine'], identitySource: ['$request.header.Authorization'] },
        createRemoteJWKSet(new URL(trusted.jwksUrl)),
      );
      const fresh = await tokenFor('machine', undefined, trusted);
      expect((await authorize({ authorization: `Bearer ${fresh}` }, [])).outcome).toBe('allow');
      await new Promise((resolve) => setTimeout(resolve, 2100));
      expect((await authorize({ authorization: `Bearer ${fresh}` }, [])).outcome).toBe('unauthorized');
    } finally {
      await trusted.close();
    }
  });

  it('answers 401 to forged and malformed tokens', async () => {
    const valid = claims(await tokenFor('machine'));
    const kid = issuer.jwks.keys[0]?.kid as string;
    const now = Math.floor(Date.now() / 1000);
    const body = { ...valid, iat: now, exp: now + 600 };
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

    const foreign = await generateKeyPair('RS256');
    const foreignSigned = await new SignJWT(body).setProtectedHeader({ alg: 'RS256', kid }).sign(foreign.privateKey);
    const algNone = `${b64({ alg: 'none', kid })}.${b64(body)}.`;
    const hs256 = await new SignJWT(body)
      .setProtectedHeader({ alg: 'HS256', kid })
      .sign(new TextEncoder().encode('machine-secret'));
    const wrongIssuer = await new SignJWT({ ...body, iss: 'https://issuer.example' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .sign(foreign.privateKey);
    const cases: Record<string, string | undefined> = {
      'no token': undefined,
      'not a JWT': 'Bearer not-a-jwt',
      'garbage segments': 'Bearer a.b.c',
      'signed by another key': `Bearer ${foreignSigned}`,
      'alg none': `Bearer ${algNone}`,
      'HS256 with a guessed secret': `Bearer ${hs256}`,
      'another issuer': `Bearer ${wrongIssuer}`,
      'a tampered payload': `Bearer ${(await tokenFor('machine')).replace(/\.[^.]+\./, `.${b64({ ...body, scope: 'api/admin' })}.`)}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      expect(await call('/read', authorization), name).toEqual({ status: 401, body: { message: 'Unauthorized' } });
    }
  });

  it('checks the times of a correctly signed token: exp, nbf and iat', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const authorize = jwtAuthorizer(
      { issuer: ISSUER, audience: ['machine'], identitySource: ['$request.header.Authorization'] },
      createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] }),
    );
    const now = Math.floor(Date.now() / 1000);
    const sign = (times: Record<string, number>) =>
      new SignJWT({ client_id: 'machine', scope: 'api/read', iss: ISSUER, ...times })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .sign(privateKey);
    const outcome = async (times: Record<string, number>) =>
      (await authorize({ authorization: `Bearer ${await sign(times)}` }, ['api/read'])).outcome;
    expect(await outcome({ iat: now - 10, exp: now + 600 })).toBe('allow');
    expect(await outcome({ iat: now - 700, exp: now - 100 })).toBe('unauthorized');
    expect(await outcome({ iat: now, nbf: now + 300, exp: now + 600 })).toBe('unauthorized');
    expect(await outcome({ iat: now + 300, exp: now + 600 })).toBe('unauthorized');
    // A token without kid is refused even when its signature verifies.
    const noKid = await new SignJWT({ client_id: 'machine', iss: ISSUER, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    expect((await authorize({ authorization: noKid }, [])).outcome).toBe('unauthorized');
  });

  it('verifies a token once, then takes it while its exp allows, the scopes checked on every request', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    let keyLookups = 0;
    const authorize = jwtAuthorizer(
      { issuer: ISSUER, audience: ['machine'], identitySource: ['$request.header.Authorization'] },
      (header, token) => {
        keyLookups++;
        return jwks(header, token);
      },
    );
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ client_id: 'machine', scope: 'api/read', iss: ISSUER, iat: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .sign(privateKey);
    const outcome = async (scopes: string[]) => (await authorize({ authorization: `Bearer ${token}` }, scopes)).outcome;
    expect(await outcome(['api/read'])).toBe('allow');
    expect(await outcome(['api/read'])).toBe('allow');
    expect(await outcome(['api/admin'])).toBe('forbidden');
    expect(keyLookups).toBe(1);
    // Once its exp has passed, the kept token is refused as a fresh one would be.
    vi.useFakeTimers({ now: (now + 600) * 1000, toFake: ['Date'] });
    try {
      expect(await outcome(['api/read'])).toBe('unauthorized');
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps at most its capacity of tokens (VERIFIED_TOKENS unless told), the oldest going first', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
    let keyLookups = 0;
    const capacity = 10;
    expect(VERIFIED_TOKENS).toBeGreaterThan(capacity);
    const authorize = jwtAuthorizer(
      { issuer: ISSUER, audience: ['machine'], identitySource: ['$request.header.Authorization'] },
      (header, token) => {
        keyLookups++;
        return jwks(header, token);
      },
      capacity,
    );
    const now = Math.floor(Date.now() / 1000);
    const tokens = await Promise.all(
      Array.from({ length: capacity + 1 }, (_, i) =>
        new SignJWT({ client_id: 'machine', iss: ISSUER, jti: String(i), exp: now + 600 })
          .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
          .sign(privateKey),
      ),
    );
    for (const token of tokens) expect((await authorize({ authorization: token }, [])).outcome).toBe('allow');
    expect(keyLookups).toBe(capacity + 1);
    // The newest is kept; the first made room for it and is verified again.
    await authorize({ authorization: tokens.at(-1) as string }, []);
    expect(keyLookups).toBe(capacity + 1);
    await authorize({ authorization: tokens[0] as string }, []);
    expect(keyLookups).toBe(capacity + 2);
  });
});
