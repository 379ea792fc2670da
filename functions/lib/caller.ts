import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CUSTOMER_CLAIM, type ScopeName, scope } from '../core/access.ts';
import type { Principal } from '../core/schemas.ts';
import { HttpError } from './http.ts';

/**
 * The caller of a route, as API Gateway's JWT authorizer verified it: the one place handlers
 * read `requestContext.authorizer.jwt`. API Gateway passes claims as strings (arrays as
 * `[a b]`) and the token's scopes as a list.
 */
export interface Caller {
  principal: Principal;
  clientId: string;
  /** Set for a customer-bound client: it acts for this customer only. */
  customerId?: string;
  groups: string[];
  scopes: string[];
}

type JwtContext = { claims?: Record<string, unknown>; scopes?: string[] | null };

const listClaim = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string' || value === '') return [];
  const inner = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return inner.split(/[\s,]+/).filter(Boolean);
};

export function callerOf(event: APIGatewayProxyEventV2): Caller {
  const jwt = (event.requestContext as { authorizer?: { jwt?: JwtContext } }).authorizer?.jwt;
  const claims = jwt?.claims;
  const clientId = claims?.client_id ?? claims?.aud;
  // Only reachable if a route lost its authorizer: fail closed rather than act for nobody.
  if (!claims || typeof clientId !== 'string' || clientId === '') throw new HttpError(401, 'Unauthorized', 'Sign in');
  const username = typeof claims.username === 'string' && claims.username !== '' ? claims.username : undefined;
  const customerId = typeof claims[CUSTOMER_CLAIM] === 'string' ? (claims[CUSTOMER_CLAIM] as string) : undefined;
  return {
    principal: username ? { kind: 'user', id: username } : { kind: 'client', id: clientId },
    clientId,
    ...(customerId ? { customerId } : {}),
    groups: listClaim(claims['cognito:groups']),
    scopes: jwt?.scopes ?? listClaim(claims.scope),
  };
}

export const hasScope = (caller: Caller, name: ScopeName): boolean => caller.scopes.includes(scope(name));

/** A customer-bound caller may act for its own customer only; everyone else for any. */
export const actsFor = (caller: Caller, customerId: string): boolean =>
  caller.customerId === undefined || caller.customerId === customerId;
