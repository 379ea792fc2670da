import type {
  AccessTokenGenerationV3,
  PreTokenGenerationV2TriggerEvent,
  PreTokenGenerationV3TriggerEvent,
} from 'aws-lambda';
import { AppClients } from '../adapters/app-clients.ts';
import {
  CUSTOMER_CLAIM,
  customerFromScopes,
  customerScopeName,
  RESOURCE_SERVER,
  scopesForGroups,
} from '../core/access.ts';
import { observedHandler } from '../lib/powertools.ts';

type TokenEvent = PreTokenGenerationV3TriggerEvent | PreTokenGenerationV2TriggerEvent;

const appClients = new AppClients();

/**
 * Cognito pre-token-generation trigger (event version V3_0), run for every access token:
 *  - a machine client (client-credentials grant) bound to a customer always gets that customer's
 *    id in the `customer_id` claim and its `sales/customer.<id>` scope. The binding is read from the
 *    app client's configured scopes (the event only carries the scopes the client asked for, and
 *    a client may ask for fewer), so no token request can drop it;
 *  - a person gets exactly the scopes of their user-pool groups (the role table in
 *    functions/core/access.ts), whatever the sign-in app asked for.
 */
export const handler = observedHandler(async (event: TokenEvent): Promise<TokenEvent> => {
  const requested = event.request.scopes ?? [];
  let access: AccessTokenGenerationV3;
  if (event.triggerSource === 'TokenGeneration_ClientCredentials') {
    const allowed = await appClients.allowedScopes(event.userPoolId, event.callerContext.clientId);
    const customerId = customerFromScopes(allowed);
    if (customerId) {
      const bound = `${RESOURCE_SERVER}/${customerScopeName(customerId)}`;
      access = {
        claimsToAddOrOverride: { [CUSTOMER_CLAIM]: customerId },
        ...(requested.includes(bound) ? {} : { scopesToAdd: [bound] }),
      };
    } else {
      access = {};
    }
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
});
