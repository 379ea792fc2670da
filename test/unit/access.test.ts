import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  customerFromScopes,
  MACHINE_ROLES,
  principalFor,
  principalLabel,
  ROLES,
  routeScopes,
  scopesForGroups,
} from '../../functions/core/access.ts';
import { timelineOf } from '../../functions/core/order.ts';
import { actsFor, callerOf, hasScope, isStaff } from '../../functions/lib/caller.ts';
import { HttpError } from '../../functions/lib/http.ts';
import { handler as preTokenTrigger } from '../../functions/pre-token-generation/handler.ts';
import { lambdaContext } from '../support/lambda-events.ts';

const cognito = mockClient(CognitoIdentityProviderClient);

const withJwt = (jwt: unknown): APIGatewayProxyEventV2 =>
  ({ requestContext: jwt === undefined ? {} : { authorizer: { jwt } } }) as unknown as APIGatewayProxyEventV2;

describe('callerOf: the caller from API Gateway JWT authorizer claims', () => {
  it('reads a machine client, bound to its customer', () => {
    const caller = callerOf(
      withJwt({
        claims: { client_id: 'buyer', sub: 'buyer', customer_id: 'CUST-1002', scope: 'sales/orders.place' },
        scopes: ['sales/orders.place'],
      }),
    );
    expect(caller).toEqual({
      principal: { kind: 'client', id: 'buyer' },
      clientId: 'buyer',
      customerId: 'CUST-1002',
      groups: [],
      scopes: ['sales/orders.place'],
    });
    expect(actsFor(caller, 'CUST-1002')).toBe(true);
    expect(actsFor(caller, 'CUST-1001')).toBe(false);
    expect(hasScope(caller, 'orders.place')).toBe(true);
    expect(hasScope(caller, 'orders.on-account')).toBe(false);
  });

  it('reads a person: username as principal, groups as API Gateway renders arrays, scopes from the claim when none are passed', () => {
    const caller = callerOf(
      withJwt({
        claims: {
          client_id: 'staff',
          username: 'alice',
          'cognito:groups': '[rep ops]',
          scope: 'openid sales/orders.read',
        },
        scopes: null,
      }),
    );
    expect(caller.principal).toEqual({ kind: 'user', id: 'alice', role: 'rep' });
    expect(caller.groups).toEqual(['rep', 'ops']);
    expect(caller.scopes).toEqual(['openid', 'sales/orders.read']);
    expect(caller.customerId).toBeUndefined();
    expect(actsFor(caller, 'CUST-1001')).toBe(true);
  });

  it('fails closed with 403 on a token that looks customer-bound but names no customer (never "any customer")', () => {
    const machine = (scope: string, extra: Record<string, string> = {}) =>
      withJwt({ claims: { client_id: 'buyer', sub: 'buyer', scope, ...extra }, scopes: scope.split(' ') });
    const person = (scope: string) =>
      withJwt({ claims: { client_id: 'staff', username: 'alice', 'cognito:groups': '[rep]', scope } });
    const refused = [
      machine('sales/orders.place sales/orders.read sales/orders.on-account'),
      machine('sales/orders.read sales/customer.CUST-1002'),
      machine('sales/orders.read sales/customer.CUST-1002', { customer_id: 'CUST-1003' }),
      machine('sales/orders.on-account', { customer_id: '' }),
      person('sales/orders.read sales/customer.CUST-1002'),
    ];
    for (const event of refused) {
      let status: number | undefined;
      try {
        callerOf(event);
      } catch (error) {
        status = (error as HttpError).statusCode;
      }
      expect(status, JSON.stringify(event.requestContext)).toBe(403);
    }
    // The same scopes with the claim are fine; a rep may bill on account without being bound.
    const bound = callerOf(machine('sales/orders.on-account sales/customer.CUST-1002', { customer_id: 'CUST-1002' }));
    expect(actsFor(bound, 'CUST-1002')).toBe(true);
    expect(actsFor(bound, 'CUST-1003')).toBe(false);
    expect(callerOf(person('sales/orders.on-account')).customerId).toBeUndefined();
    // An unbound machine client (the web checkout) still acts for any customer.
    expect(actsFor(callerOf(machine('sales/orders.place sales/orders.read')), 'CUST-1003')).toBe(true);
  });

  it('records a person with their role, and shows people to machine clients by kind and role only', () => {
    const rep = callerOf(
      withJwt({
        claims: { client_id: 'staff', username: 'alice@example.com', 'cognito:groups': '[rep]', scope: 'x' },
      }),
    );
    expect(rep.principal).toEqual({ kind: 'user', id: 'alice@example.com', role: 'rep' });
    expect(isStaff(rep)).toBe(true);
    expect(principalFor(rep.principal, 'staff')).toEqual(rep.principal);
    expect(principalFor(rep.principal, 'client')).toEqual({ kind: 'user', role: 'rep' });
    expect(principalLabel(principalFor(rep.principal, 'client'))).toBe('user (rep)');
    expect(principalLabel(principalFor({ kind: 'user', id: 'bob' }, 'client'))).toBe('user');
    expect(principalLabel(principalFor({ kind: 'user', id: 'bob' }, 'staff'))).toBe('user:bob');
    // Machine clients are not people: their id is shown to everyone.
    expect(principalFor({ kind: 'client', id: 'buyer' }, 'client')).toEqual({ kind: 'client', id: 'buyer' });
    const order = { stages: { OrderReceived: '2026-11-28T10:00:00.000Z' }, placedBy: rep.principal };
    expect(timelineOf(order, 'client')).toEqual([
      { at: '2026-11-28T10:00:00.000Z', type: 'OrderReceived', by: 'user (rep)' },
    ]);
    expect(timelineOf(order, 'staff')[0]?.by).toBe('user:alice@example.com');
  });

  it('fails closed with 401 when there is no verified caller', () => {
    for (const event of [withJwt(undefined), withJwt({ claims: {} }), withJwt({ claims: { client_id: '' } })]) {
      expect(() => callerOf(event)).toThrow(HttpError);
      try {
        callerOf(event);
      } catch (error) {
        expect((error as HttpError).statusCode).toBe(401);
      }
    }
  });
});

describe('the role table', () => {
  it("grants people exactly their groups' scopes, ignoring unknown groups", () => {
    expect(scopesForGroups(['finance'])).toEqual([
      'sales/credit-notes.write',
      'sales/invoices.read',
      'sales/kpis.read',
      'sales/payments.write',
    ]);
    expect(scopesForGroups(['approver', 'admins'])).toEqual(['sales/approvals.write']);
    expect(scopesForGroups([])).toEqual([]);
  });

  it('gives on-account billing to no machine role that is not customer-bound (callerOf relies on it)', () => {
    expect(
      MACHINE_ROLES.filter((r) => ROLES[r].scopes.includes('orders.on-account') && !ROLES[r].customerBound),
    ).toEqual([]);
  });

  it('gives order entry only to roles trusted with on-account billing, never to a machine client', () => {
    // An entry is billed on the customer's terms, which may be on account (POST /order-entries relies on it).
    const entering = (Object.keys(ROLES) as (keyof typeof ROLES)[]).filter((r) =>
      ROLES[r].scopes.includes('orders.enter'),
    );
    expect(entering).toEqual(['rep']);
    for (const role of entering) expect(ROLES[role].scopes).toContain('orders.on-account');
  });

  it('binds a client to at most one customer', () => {
    expect(customerFromScopes(['sales/orders.read', 'sales/customer.CUST-1002'])).toBe('CUST-1002');
    expect(customerFromScopes(['sales/orders.read'])).toBeUndefined();
    expect(() => customerFromScopes(['sales/customer.A', 'sales/customer.B'])).toThrow(/one customer/);
  });

  it('has a rule for every route and refuses an unknown one', () => {
    expect(routeScopes('GET /customers')).toEqual(['sales/customers.read']);
    expect(routeScopes('GET /health')).toBe('public');
    expect(() => routeScopes('DELETE /orders')).toThrow(/No access rule/);
  });
});

describe('pre-token-generation trigger (V3 event)', () => {
  const preTokenGeneration = (event: Parameters<typeof preTokenTrigger>[0]) => preTokenTrigger(event, lambdaContext);
  // The pool's app clients as DescribeUserPoolClient answers: the binding is in their configuration.
  const CONFIGURED: Record<string, string[]> = {
    buyer: ['sales/orders.place', 'sales/orders.read', 'sales/orders.on-account', 'sales/customer.CUST-1002'],
    checkout: ['sales/orders.place', 'sales/orders.read', 'sales/catalog.read'],
  };
  beforeEach(() => {
    cognito.reset();
    cognito.on(DescribeUserPoolClientCommand).callsFake((input: { ClientId: string; UserPoolId: string }) => ({
      UserPoolClient: {
        ClientId: input.ClientId,
        UserPoolId: input.UserPoolId,
        AllowedOAuthScopes: CONFIGURED[input.ClientId],
      },
    }));
  });

  const event = (triggerSource: string, scopes: string[], groups: string[] = [], clientId = 'c') =>
    ({
      version: '3',
      triggerSource,
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_x',
      userName: groups.length ? 'alice' : null,
      callerContext: { awsSdkVersion: '1', clientId },
      request: { userAttributes: {}, groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [] }, scopes },
      response: { claimsAndScopeOverrideDetails: null },
    }) as never;

  it("puts a bound client's customer in the customer_id claim", async () => {
    const result = await preTokenGeneration(
      event('TokenGeneration_ClientCredentials', ['sales/orders.place', 'sales/customer.CUST-1002'], [], 'buyer'),
    );
    expect(result.response.claimsAndScopeOverrideDetails).toEqual({
      accessTokenGeneration: { claimsToAddOrOverride: { customer_id: 'CUST-1002' } },
    });
    expect(cognito.commandCalls(DescribeUserPoolClientCommand)[0]?.args[0].input).toEqual({
      UserPoolId: 'eu-west-1_x',
      ClientId: 'buyer',
    });
  });

  it('binds by client: a bound client that asks for fewer scopes still gets its customer, and its customer scope', async () => {
    const result = await preTokenGeneration(
      event(
        'TokenGeneration_ClientCredentials',
        ['sales/orders.place', 'sales/orders.read', 'sales/orders.on-account'],
        [],
        'buyer',
      ),
    );
    expect(result.response.claimsAndScopeOverrideDetails).toEqual({
      accessTokenGeneration: {
        claimsToAddOrOverride: { customer_id: 'CUST-1002' },
        scopesToAdd: ['sales/customer.CUST-1002'],
      },
    });
  });

  it('adds no claim for an unbound client', async () => {
    const result = await preTokenGeneration(
      event('TokenGeneration_ClientCredentials', ['sales/orders.place'], [], 'checkout'),
    );
    expect(result.response.claimsAndScopeOverrideDetails).toEqual({ accessTokenGeneration: {} });
  });

  it('issues no token when the binding cannot be read (the error reaches Cognito)', async () => {
    cognito
      .on(DescribeUserPoolClientCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(
      preTokenGeneration(event('TokenGeneration_ClientCredentials', ['sales/orders.place'], [], 'unseen-client')),
    ).rejects.toThrow(/Rate exceeded/);
  });

  it("gives a person their groups' scopes and takes away the rest of what the app asked for", async () => {
    const result = await preTokenGeneration(
      event('TokenGeneration_HostedAuth', ['openid', 'sales/orders.read', 'sales/payments.write'], ['rep']),
    );
    const access = result.response.claimsAndScopeOverrideDetails?.accessTokenGeneration;
    expect(access?.scopesToSuppress).toEqual(['sales/payments.write']);
    expect(access?.scopesToAdd?.sort()).toEqual([
      'sales/catalog.read',
      'sales/customers.read',
      'sales/orders.cancel',
      'sales/orders.enter',
      'sales/orders.on-account',
      'sales/orders.place',
      'sales/orders.search',
    ]);
    expect(cognito.commandCalls(DescribeUserPoolClientCommand)).toHaveLength(0);
  });
});

describe('app client lookups', () => {
  beforeEach(() => cognito.reset());

  it('shares one lookup among concurrent token requests and does not keep a failed one', async () => {
    const { AppClients } = await import('../../functions/adapters/app-clients.ts');
    const clients = new AppClients();
    cognito
      .on(DescribeUserPoolClientCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ UserPoolClient: { AllowedOAuthScopes: ['sales/orders.place'] } });
    await expect(clients.allowedScopes('pool', 'burst')).rejects.toThrow('throttled');
    const scopes = await Promise.all(Array.from({ length: 50 }, () => clients.allowedScopes('pool', 'burst')));
    expect(scopes.every((s) => s[0] === 'sales/orders.place')).toBe(true);
    expect(cognito.commandCalls(DescribeUserPoolClientCommand)).toHaveLength(2);
  });
});
