import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import {
  AccountRecovery,
  CfnUserPoolGroup,
  FeaturePlan,
  LambdaVersion,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StandardThreatProtectionMode,
  UserPool,
  type UserPoolClient,
  UserPoolOperation,
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  customerScopeName,
  MACHINE_ROLES,
  PERSON_ROLES,
  RESOURCE_SERVER,
  ROLES,
  type RoleName,
  SCOPE_NAMES,
  type ScopeName,
} from '../../functions/core/access.ts';

export interface OrderIdentityProps {
  /**
   * The pre-token-generation trigger (functions/pre-token-generation): groups -> scopes, client ->
   * customer. It is granted `cognito-idp:DescribeUserPoolClient` on the pool.
   */
  preTokenGeneration: IFunction;
  /** Customer-bound machine clients: app client name -> customer id. */
  buyerClients: Record<string, string>;
  /** Where the staff sign-in app returns after the hosted sign-in (authorization code + PKCE). */
  staffCallbackUrls: string[];
  /** The Cognito domain prefix of the token endpoint (globally unique per region). */
  domainPrefix: string;
  removalPolicy?: RemovalPolicy;
}

/**
 * Who may call the API (the role table in functions/core/access.ts): a Cognito user pool with
 * a resource server and its custom scopes, one client-credentials app client per machine
 * integration (generated secret), one group per people role with a staff sign-in client, and
 * the HTTP API's JWT authorizer trusting that pool and those clients.
 */
export class OrderIdentity extends Construct {
  readonly userPool: UserPool;
  readonly authorizer: HttpUserPoolAuthorizer;
  readonly clients: UserPoolClient[] = [];
  private readonly scopes: Record<string, ResourceServerScope>;
  private readonly resourceServer: UserPoolResourceServer;

  constructor(scope: Construct, id: string, props: OrderIdentityProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false, // staff accounts are created by an administrator
      signInAliases: { username: true, email: true },
      // Plus: threat protection for the people who sign in (compromised credentials, risky sign-ins).
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: props.removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // V3_0: the only version that also runs for client-credentials tokens (customer binding).
    this.userPool.addTrigger(
      UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      props.preTokenGeneration,
      LambdaVersion.V3_0,
    );
    // The trigger binds a client to its customer from the client's configured scopes, which it
    // reads from the pool (the event only has the scopes asked for). A policy of its own: on the
    // function's default policy this grant would make the pool depend on itself via the trigger.
    const triggerRole = props.preTokenGeneration.role;
    if (!triggerRole) throw new Error('The pre-token-generation trigger needs a role');
    new Policy(this, 'TriggerReadsAppClients', {
      roles: [triggerRole],
      statements: [
        new PolicyStatement({
          actions: ['cognito-idp:DescribeUserPoolClient'],
          resources: [this.userPool.userPoolArn],
        }),
      ],
    });
    this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: props.domainPrefix } });

    const customerScopes = Object.values(props.buyerClients).map((customerId) => customerScopeName(customerId));
    this.scopes = Object.fromEntries(
      [
        ...Object.entries(SCOPE_NAMES).map(([name, description]) => [name, description] as const),
        ...customerScopes.map((name) => [name, `Act for customer ${name.slice(name.indexOf('.') + 1)} only`] as const),
      ].map(([name, description]) => [
        name,
        new ResourceServerScope({ scopeName: name, scopeDescription: description }),
      ]),
    );
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: RESOURCE_SERVER,
      userPoolResourceServerName: 'Sales orders API',
      scopes: Object.values(this.scopes),
    });

    for (const role of MACHINE_ROLES.filter((r) => !ROLES[r].customerBound)) this.machineClient(role, role, []);
    for (const [name, customerId] of Object.entries(props.buyerClients)) {
      this.machineClient(name, 'buyer', [customerScopeName(customerId)]);
    }

    for (const role of PERSON_ROLES) {
      new CfnUserPoolGroup(this, `Group${role}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: ROLES[role].description,
      });
    }
    // People sign in through the hosted UI (authorization code + PKCE, no secret in the browser);
    // the trigger then grants exactly their groups' scopes.
    const staffScopes = [...new Set(PERSON_ROLES.flatMap((role) => ROLES[role].scopes))];
    const staff = this.userPool.addClient('StaffClient', {
      userPoolClientName: 'staff',
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, ...staffScopes.map((s) => this.oauthScope(s))],
        callbackUrls: props.staffCallbackUrls,
      },
    });
    this.clients.push(staff);

    this.authorizer = new HttpUserPoolAuthorizer('Cognito', this.userPool, {
      userPoolClients: this.clients,
      identitySource: ['$request.header.Authorization'],
    });
    const region = Stack.of(this).region;
    new CfnOutput(scope, 'UserPoolId', {
      value: this.userPool.userPoolId,
      description: 'Cognito user pool of the API',
    });
    new CfnOutput(scope, 'TokenEndpoint', {
      value: `https://${props.domainPrefix}.auth.${region}.amazoncognito.com/oauth2/token`,
      description: 'OAuth2 token endpoint (client credentials) for the machine clients',
    });
  }

  private oauthScope(name: ScopeName | string): OAuthScope {
    const s = this.scopes[name];
    if (!s) throw new Error(`Unknown scope ${name}`);
    return OAuthScope.resourceServer(this.resourceServer, s);
  }

  /** A machine integration: client-credentials grant, generated secret, its role's scopes. */
  private machineClient(name: string, role: RoleName, extraScopes: string[]): void {
    const client = this.userPool.addClient(`${name}Client`, {
      userPoolClientName: name,
      generateSecret: true,
      authFlows: {},
      accessTokenValidity: Duration.hours(1),
      oAuth: {
        flows: { clientCredentials: true },
        scopes: [...ROLES[role].scopes, ...extraScopes].map((s) => this.oauthScope(s)),
      },
    });
    this.clients.push(client);
  }
}
