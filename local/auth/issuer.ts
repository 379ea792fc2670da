import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessTokenGenerationV3 } from 'aws-lambda';
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';

/**
 * A local OAuth2 issuer that answers like a Cognito user pool's token endpoint: client-credentials
 * grant with the client id and secret by HTTP Basic (or in the body), scopes checked against the
 * client's allowed scopes, RS256 access tokens whose claims follow Cognito's, the pool's
 * pre-token-generation trigger applied, and the public keys at the JWKS endpoint. It also answers
 * the one user-pool API call the functions make, `DescribeUserPoolClient`, from the template.
 */

export interface IssuerClient {
  clientId: string;
  secret: string;
  /** The scopes the app client may receive; all of them when the request names none. */
  allowedScopes: string[];
  /** True when the app client has the client-credentials flow enabled. */
  clientCredentials: boolean;
  /** A person's local stand-in: the token is that user's access token from the staff app client. */
  person?: { username: string; groups: string[]; appClientId: string };
}

/** Cognito's V3 pre-token-generation event, as far as the issuer fills it. */
export interface TokenGenerationEvent {
  version: '3';
  triggerSource: 'TokenGeneration_ClientCredentials' | 'TokenGeneration_Authentication';
  region: string;
  userPoolId: string;
  userName: string | null;
  callerContext: { awsSdkVersion: string; clientId: string };
  request: {
    userAttributes: Record<string, string>;
    groupConfiguration: { groupsToOverride: string[]; iamRolesToOverride: string[] };
    scopes: string[];
  };
  response: { claimsAndScopeOverrideDetails: { accessTokenGeneration?: AccessTokenGenerationV3 } | null };
}

export interface IssuerOptions {
  host?: string;
  port?: number;
  /** The `iss` of every token: the user pool's issuer as the authorizer trusts it. */
  issuer: string;
  region: string;
  userPoolId: string;
  clients: IssuerClient[];
  tokenLifetimeSeconds?: number;
  /**
   * The pool's app clients as `DescribeUserPoolClient` answers for them (POST / with
   * `X-Amz-Target: AWSCognitoIdentityProviderService.DescribeUserPoolClient`); by default the
   * client-credentials clients above.
   */
  appClients?: { clientId: string; allowedScopes: string[]; flows: string[] }[];
  /** The pool's pre-token-generation trigger, when it has one. */
  preTokenGeneration?: (event: TokenGenerationEvent) => Promise<TokenGenerationEvent>;
}

export interface RunningIssuer {
  url: string;
  port: number;
  jwksUrl: string;
  jwks: JSONWebKeySet;
  clients: IssuerClient[];
  close(): Promise<void>;
}

/** Claims the trigger may not override (Cognito refuses these as well). */
const RESERVED = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'token_use',
  'client_id',
  'scope',
  'auth_time',
]);

class OAuthError extends Error {
  constructor(
    readonly code: string,
    readonly status = 400,
  ) {
    super(code);
  }
}

function clientCredentials(req: IncomingMessage, form: URLSearchParams): { id: string; secret: string } {
  const header = req.headers.authorization;
  if (header?.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client');
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  }
  const id = form.get('client_id');
  const secret = form.get('client_secret');
  if (!id || !secret) throw new OAuthError('invalid_client');
  return { id, secret };
}

export async function startIssuer(options: IssuerOptions): Promise<RunningIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));

  const issue = async (req: IncomingMessage, body: string) => {
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      throw new OAuthError('invalid_request');
    const form = new URLSearchParams(body);
    const credentials = clientCredentials(req, form);
    const client = clients.get(credentials.id);
    if (!client || client.secret !== credentials.secret) throw new OAuthError('invalid_client');
    const grant = form.get('grant_type');
    if (!grant) throw new OAuthError('invalid_request');
    if (grant !== 'client_credentials') throw new OAuthError('unsupported_grant_type');
    if (!client.clientCredentials) throw new OAuthError('unauthorized_client');
    const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (asked.some((s) => !client.allowedScopes.includes(s))) throw new OAuthError('invalid_scope');
    let scopes = asked.length > 0 ? asked : [...client.allowedScopes];

    const now = Math.floor(Date.now() / 1000);
    const person = client.person;
    const claims: Record<string, unknown> = person
      ? {
          sub: `local-${person.username}`,
          'cognito:groups': person.groups,
          username: person.username,
          client_id: person.appClientId,
        }
      : { sub: client.clientId, client_id: client.clientId };
    if (options.preTokenGeneration) {
      const result = await options.preTokenGeneration({
        version: '3',
        triggerSource: person ? 'TokenGeneration_Authentication' : 'TokenGeneration_ClientCredentials',
        region: options.region,
        userPoolId: options.userPoolId,
        userName: person?.username ?? null,
        callerContext: { awsSdkVersion: 'local', clientId: person?.appClientId ?? client.clientId },
        request: {
          userAttributes: person ? { sub: `local-${person.username}` } : {},
          groupConfiguration: { groupsToOverride: person?.groups ?? [], iamRolesToOverride: [] },
          scopes,
        },
        response: { claimsAndScopeOverrideDetails: null },
      });
      const access = result.response.claimsAndScopeOverrideDetails?.accessTokenGeneration ?? {};
      const suppressed = new Set(access.scopesToSuppress ?? []);
      scopes = [...new Set([...scopes.filter((s) => !suppressed.has(s)), ...(access.scopesToAdd ?? [])])];
      for (const [name, value] of Object.entries(access.claimsToAddOrOverride ?? {})) {
        if (!RESERVED.has(name)) claims[name] = value;
      }
      for (const name of access.claimsToSuppress ?? []) if (!RESERVED.has(name)) delete claims[name];
    }
    const token = await new SignJWT({
      ...claims,
      token_use: 'access',
      scope: scopes.join(' '),
      auth_time: now,
      version: 2,
      jti: randomUUID(),
    })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(options.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetime)
      .sign(privateKey);
    return { access_token: token, expires_in: lifetime, token_type: 'Bearer' };
  };

  const send = (res: ServerResponse, status: number, value: unknown) => {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store' });
    res.end(body);
  };

  // The user-pool API's one read the functions make (the trigger reads a client's configured scopes).
  const appClients = new Map(
    (
      options.appClients ??
      options.clients
        .filter((c) => !c.person && c.clientCredentials)
        .map((c) => ({ clientId: c.clientId, allowedScopes: c.allowedScopes, flows: ['client_credentials'] }))
    ).map((c) => [c.clientId, c]),
  );
  const userPoolApi = (res: ServerResponse, target: string, body: string) => {
    const answer = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(value));
    };
    if (target !== 'AWSCognitoIdentityProviderService.DescribeUserPoolClient')
      return answer(400, { __type: 'UnknownOperationException', message: `${target} is not served locally` });
    let input: { UserPoolId?: unknown; ClientId?: unknown };
    try {
      input = JSON.parse(body) as typeof input;
    } catch {
      return answer(400, { __type: 'SerializationException', message: 'Body is not JSON' });
    }
    const client = typeof input.ClientId === 'string' ? appClients.get(input.ClientId) : undefined;
    if (input.UserPoolId !== options.userPoolId || !client)
      return answer(400, { __type: 'ResourceNotFoundException', message: 'User pool client does not exist.' });
    return answer(200, {
      UserPoolClient: {
        UserPoolId: options.userPoolId,
        ClientId: client.clientId,
        ClientName: client.clientId,
        AllowedOAuthFlows: client.flows,
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: client.allowedScopes,
      },
    });
  };

  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/.well-known/jwks.json') return send(res, 200, jwks);
      if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
        return send(res, 200, {
          issuer: options.issuer,
          jwks_uri: `${base}/.well-known/jwks.json`,
          token_endpoint: `${base}/oauth2/token`,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      const target = req.headers['x-amz-target'];
      if (req.method === 'POST' && path === '/' && typeof target === 'string')
        return userPoolApi(res, target, Buffer.concat(chunks).toString('utf8'));
      if (path !== '/oauth2/token') return send(res, 404, { error: 'not_found' });
      if (req.method !== 'POST') return send(res, 405, { error: 'invalid_request' });
      issue(req, Buffer.concat(chunks).toString('utf8'))
        .then((answer) => send(res, 200, answer))
        .catch((error: unknown) => {
          if (error instanceof OAuthError) return send(res, error.status, { error: error.code });
          console.error('[auth] token request failed:', error);
          send(res, 500, { error: 'server_error' });
        });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  base = `http://${host}:${port}`;
  return {
    url: base,
    port,
    jwksUrl: `${base}/.well-known/jwks.json`,
    jwks,
    clients: options.clients,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
