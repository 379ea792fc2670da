import { decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/**
 * API Gateway HTTP API's JWT authorizer, locally: the token from the identity source (with or
 * without `Bearer `), an RSA signature by a key of the issuer's JWKS named by `kid`, `iss`, `exp`,
 * `nbf` and `iat`, then `aud` — or, when the token has none, `client_id` as Cognito access tokens
 * carry it — against the audience list; then the route's scopes, any one of which suffices.
 */

export interface JwtAuthorizerConfig {
  issuer: string;
  audience: string[];
  identitySource: string[];
}

export type Authorization =
  | { outcome: 'allow'; claims: Record<string, string>; scopes: string[] | null }
  | { outcome: 'unauthorized' }
  | { outcome: 'forbidden' };

const RSA_ALGORITHMS = ['RS256', 'RS384', 'RS512'];

/** `$request.header.Authorization` -> the header's value; other sources are not used here. */
function tokenFrom(identitySource: string[], headers: Record<string, string | undefined>): string | undefined {
  for (const source of identitySource) {
    const header = /^\$request\.header\.(.+)$/.exec(source)?.[1];
    if (!header) throw new Error(`Identity source ${source} is not supported locally`);
    const value = headers[header.toLowerCase()]?.trim();
    if (value) return value.replace(/^Bearer\s+/i, '');
  }
  return undefined;
}

/** Claims as API Gateway hands them to the integration: strings, arrays as `[a b]`. */
export function claimsForIntegration(payload: JWTPayload): Record<string, string> {
  return Object.fromEntries(
    Object.entries(payload).map(([name, value]) => [
      name,
      Array.isArray(value)
        ? `[${value.map(String).join(' ')}]`
        : typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : String(value),
    ]),
  );
}

export function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (Array.isArray(raw)) return raw.map(String);
  return typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
}

/**
 * Tokens whose signature and issuer verified, kept by an authorizer with their payload: a client sends
 * the same token with every request until it expires, and checking its RSA signature again took a tenth
 * of the runtime thread's time at 50 orders a second. A kept token is taken only while its `exp` and
 * `nbf` still allow it, as jose checks them (no clock tolerance); the oldest goes first when full.
 */
export const VERIFIED_TOKENS = 1_000;

/** The token's payload while its time claims allow it (exp, nbf, in seconds as jwtVerify reads them). */
function stillValid(payload: JWTPayload): boolean {
  const now = Math.floor(Date.now() / 1000);
  return (payload.exp === undefined || payload.exp > now) && (payload.nbf === undefined || payload.nbf <= now);
}

export function jwtAuthorizer(config: JwtAuthorizerConfig, keys: JWTVerifyGetKey, capacity = VERIFIED_TOKENS) {
  const verified = new Map<string, JWTPayload>();
  const verify = async (token: string): Promise<JWTPayload | undefined> => {
    const known = verified.get(token);
    if (known && stillValid(known)) return known;
    verified.delete(token);
    try {
      const header = decodeProtectedHeader(token);
      if (!header.kid || !RSA_ALGORITHMS.includes(String(header.alg))) return undefined;
      const { payload } = await jwtVerify(token, keys, { issuer: config.issuer, algorithms: RSA_ALGORITHMS });
      if (!verified.has(token) && verified.size >= capacity) verified.delete(verified.keys().next().value as string);
      verified.set(token, payload);
      return payload;
    } catch {
      return undefined;
    }
  };
  return async (headers: Record<string, string | undefined>, routeScopes: string[]): Promise<Authorization> => {
    const token = tokenFrom(config.identitySource, headers);
    if (!token) return { outcome: 'unauthorized' };
    const payload = await verify(token);
    if (!payload) return { outcome: 'unauthorized' };
    // API Gateway also refuses a token issued in the future.
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000))
      return { outcome: 'unauthorized' };
    const audiences = payload.aud === undefined ? [] : [payload.aud].flat();
    const audienceOk =
      audiences.length > 0
        ? audiences.some((a) => config.audience.includes(a))
        : typeof payload.client_id === 'string' && config.audience.includes(payload.client_id);
    if (!audienceOk) return { outcome: 'unauthorized' };
    const scopes = scopesOf(payload);
    if (routeScopes.length > 0 && !routeScopes.some((s) => scopes.includes(s))) return { outcome: 'forbidden' };
    return { outcome: 'allow', claims: claimsForIntegration(payload), scopes: scopes.length > 0 ? scopes : null };
  };
}
