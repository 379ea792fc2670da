import type {
  AccessTokenGenerationV3,
  PreTokenGenerationV2TriggerEvent,
  PreTokenGenerationV3TriggerEvent,
} from 'aws-lambda';
import { CUSTOMER_CLAIM, customerFromScopes, RESOURCE_SERVER, scopesForGroups } from '../core/access.ts';

type TokenEvent = PreTokenGenerationV3TriggerEvent | PreTokenGenerationV2TriggerEvent;

/**
 * Cognito pre-token-generation trigger (event version V3_0), run for every access token:
 *  - a machine client (client-credentials grant) bound to a customer gets that customer's id in
 *    the `customer_id` claim, taken from its one `sales/customer.<id>` scope;
 *  - a person gets exactly the scopes of their user-pool groups (the role table in
 *    functions/core/access.ts), whatever the sign-in app asked for.
 */
export const handler = async (event: TokenEvent): Promise<TokenEvent> => {
  const requested = event.request.scopes ?? [];
  let access: AccessTokenGenerationV3;
  if (event.triggerSource === 'TokenGeneration_ClientCredentials') {
    const customerId = customerFromScopes(requested);
    access = customerId ? { claimsToAddOrOverride: { [CUSTOMER_CLAIM]: customerId } } : {};
  } else {
    const granted = scopesForGroups(event.request.groupConfiguration.groupsToOverride ?? []);
    access = {
      scopesToAdd: granted.filter((s) => !requested.includes(s)),
      scopesToSuppress: requested.filter((s) => s.startsWith(`${RESOURCE_SERVER}/`) && !granted.includes(s)),
    };
  }
  (event.response as { claimsAndScopeOverrideDetails: unknown }).claimsAndScopeOverrideDetails = {
    accessTokenGeneration: access,
  };
  return event;
};
