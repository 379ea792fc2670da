import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  CUSTOMER_CLAIM,
  CUSTOMER_SCOPE_PREFIX,
  PERSON_ROLES,
  RESOURCE_SERVER,
  type ScopeName,
  scope,
} from '../core/access.ts';
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
  const customerId =
    typeof claims[CUSTOMER_CLAIM] === 'string' && claims[CUSTOMER_CLAIM] !== ''
      ? (claims[CUSTOMER_CLAIM] as string)
      : undefined;
  const groups = listClaim(claims['cognito:groups']);
  const scopes = jwt?.scopes ?? listClaim(claims.scope);
  assertBinding(scopes, customerId, username !== undefined);
  const role = groups.find((g) => (PERSON_ROLES as string[]).includes(g));
  return {
    principal: username ? { kind: 'user', id: username, ...(role ? { role } : {}) } : { kind: 'client', id: clientId },
    clientId,
    ...(customerId ? { customerId } : {}),
    groups,
    scopes,
  };
}

const CUSTOMER_SCOPE = `${RESOURCE_SERVER}/${CUSTOMER_SCOPE_PREFIX}`;

/**
 * Fails closed (403) on a token that looks customer-bound but does not say which customer: a
 * `sales/customer.*` scope without the matching `customer_id` claim, or a machine client allowed to
 * bill on account (only customer-bound clients are) without the claim. Such a token never means
 * "any customer".
 */
function assertBinding(scopes: string[], customerId: string | undefined, person: boolean): void {
  const bound = scopes.filter((s) => s.startsWith(CUSTOMER_SCOPE)).map((s) => s.slice(CUSTOMER_SCOPE.length));
  const consistent =
    bound.every((c) => c === customerId) &&
    (person || customerId !== undefined || !scopes.includes(scope('orders.on-account')));
  if (!consistent) throw new HttpError(403, 'Forbidden', 'This token is bound to a customer but does not name it');
}

/** Staff (people signed in through the user pool) as opposed to machine clients. */
export const isStaff = (caller: Caller): boolean => caller.principal.kind === 'user';

export const hasScope = (caller: Caller, name: ScopeName): boolean => caller.scopes.includes(scope(name));

/**
 * A customer-bound caller may act for its own customer only; everyone else for any. A token that
 * looks bound but names no customer never gets here (callerOf answers 403).
 */
export const actsFor = (caller: Caller, customerId: string): boolean =>
  caller.customerId === undefined || caller.customerId === customerId;
