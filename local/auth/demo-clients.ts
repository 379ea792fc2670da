import type { LocalIdentity } from '../template.ts';
import type { IssuerClient } from './issuer.ts';

/** Every demo client's local secret: `local-<client id>-secret`. */
export const demoSecret = (clientId: string): string => `local-${clientId}-secret`;

/**
 * The local issuer's clients, from the template: each client-credentials app client under its
 * own name (checkout, erp, buyer…), and for each user-pool group a stand-in client named after
 * the group (rep, ops, finance, approver) whose tokens are those of a person in that group
 * signed in through the staff app client.
 */
export function demoClients(identity: LocalIdentity): IssuerClient[] {
  const machines = identity.clients
    .filter((c) => c.flows.includes('client_credentials'))
    .map((c) => ({
      clientId: c.clientId,
      secret: demoSecret(c.clientId),
      allowedScopes: c.scopes,
      clientCredentials: true,
    }));
  const staff = identity.clients.find((c) => c.flows.includes('code'));
  const people = staff
    ? identity.groups.map((group) => ({
        clientId: group,
        secret: demoSecret(group),
        allowedScopes: staff.scopes,
        clientCredentials: true,
        person: { username: group, groups: [group], appClientId: staff.clientId },
      }))
    : [];
  return [...machines, ...people];
}
