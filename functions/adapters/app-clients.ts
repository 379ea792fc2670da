import {
  CognitoIdentityProviderClient,
  DescribeUserPoolClientCommand,
} from '@aws-sdk/client-cognito-identity-provider';

const MAX_AGE_MS = 5 * 60_000;

/**
 * The scopes an app client is configured to receive (AllowedOAuthScopes), read from the user pool
 * and cached for five minutes per execution environment. This is the client's configuration, not
 * what it asked for in one token request, so a binding kept in it cannot be dropped by asking for
 * fewer scopes.
 */
export class AppClients {
  private client: CognitoIdentityProviderClient | undefined;
  private readonly cache = new Map<string, { scopes: Promise<string[]>; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async allowedScopes(userPoolId: string, clientId: string): Promise<string[]> {
    const key = `${userPoolId}/${clientId}`;
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return hit.scopes;
    // One lookup per client at a time: a burst of token requests shares it.
    const scopes = this.lookup(userPoolId, clientId);
    this.cache.set(key, { scopes, until: this.now() + MAX_AGE_MS });
    scopes.catch(() => {
      if (this.cache.get(key)?.scopes === scopes) this.cache.delete(key);
    });
    return scopes;
  }

  private async lookup(userPoolId: string, clientId: string): Promise<string[]> {
    this.client ??= new CognitoIdentityProviderClient({});
    const { UserPoolClient } = await this.client.send(
      new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }),
    );
    if (!UserPoolClient) throw new Error(`App client ${clientId} not found`);
    return UserPoolClient.AllowedOAuthScopes ?? [];
  }
}
