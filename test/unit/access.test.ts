import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { customerFromScopes, routeScopes, scopesForGroups } from '../../functions/core/access.ts';
import { actsFor, callerOf, hasScope } from '../../functions/lib/caller.ts';
import { HttpError } from '../../functions/lib/http.ts';
import { handler as preTokenGeneration } from '../../functions/pre-token-generation/handler.ts';

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
    expect(caller.principal).toEqual({ kind: 'user', id: 'alice' });
    expect(caller.groups).toEqual(['rep', 'ops']);
    expect(caller.scopes).toEqual(['openid', 'sales/orders.read']);
    expect(caller.customerId).toBeUndefined();
    expect(actsFor(caller, 'CUST-1001')).toBe(true);
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
    expect(scopesForGroups(['finance'])).toEqual(['sales/invoices.read', 'sales/kpis.read', 'sales/payments.write']);
    expect(scopesForGroups(['approver', 'admins'])).toEqual(['sales/approvals.write']);
    expect(scopesForGroups([])).toEqual([]);
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
  const event = (triggerSource: string, scopes: string[], groups: string[] = []) =>
    ({
      version: '3',
      triggerSource,
      region: 'eu-west-1',
      userPoolId: 'eu-west-1_x',
      userName: groups.length ? 'alice' : null,
      callerContext: { awsSdkVersion: '1', clientId: 'c' },
      request: { userAttributes: {}, groupConfiguration: { groupsToOverride: groups, iamRolesToOverride: [] }, scopes },
      response: { claimsAndScopeOverrideDetails: null },
    }) as never;

  it("puts a bound client's customer in the customer_id claim", async () => {
    const result = await preTokenGeneration(
      event('TokenGeneration_ClientCredentials', ['sales/orders.place', 'sales/customer.CUST-1002']),
    );
    expect(result.response.claimsAndScopeOverrideDetails).toEqual({
      accessTokenGeneration: { claimsToAddOrOverride: { customer_id: 'CUST-1002' } },
    });
  });

  it('adds no claim for an unbound client', async () => {
    const result = await preTokenGeneration(event('TokenGeneration_ClientCredentials', ['sales/orders.place']));
    expect(result.response.claimsAndScopeOverrideDetails).toEqual({ accessTokenGeneration: {} });
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
      'sales/orders.on-account',
      'sales/orders.place',
    ]);
  });
});
