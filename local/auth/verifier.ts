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

export function jwtAuthorizer(config: JwtAuthorizerConfig, keys: JWTVerifyGetKey) {
  return async (headers: Record<string, string | undefined>, routeScopes: string[]): Promise<Authorization> => {
    const token = tokenFrom(config.identitySource, headers);
    if (!token) return { outcome: 'unauthorized' };
    let payload: JWTPayload;
    try {
      const header = decodeProtectedHeader(token);
      if (!header.kid || !RSA_ALGORITHMS.includes(String(header.alg))) return { outcome: 'unauthorized' };
      ({ payload } = await jwtVerify(token, keys, { issuer: config.issuer, algorithms: RSA_ALGORITHMS }));
    } catch {
      return { outcome: 'unauthorized' };
    }
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
