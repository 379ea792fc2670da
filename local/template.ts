import { readFileSync } from 'node:fs';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { ENTRY_METADATA_KEY, FILES_METADATA_KEY } from '../infra/function-package.ts';
import type { LocalArchive, LocalRule } from './eventbridge/service.ts';
import type { ThrottleLimits } from './throttle.ts';

/**
 * Reads what the local runtime needs from the synthesized CloudFormation template, so that
 * tables, functions, routes, rules and the state machine are declared once, in infra/.
 * CloudFormation intrinsics are resolved to local names and ARNs.
 */
export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  entry: string;
  /** Files the function reads beside its bundle: bundle path -> repository path (OrderFunction's `files`). */
  files?: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  /** Lambda's default is x86_64; the project's functions say arm64. */
  architecture: 'arm64' | 'x86_64';
  environment: Record<string, string>;
  /** `ReservedConcurrentExecutions`: at most this many invocations at once, more are throttled. */
  reservedConcurrency?: number;
}

export interface LocalRoute {
  routeKey: string;
  functionArn: string;
  /** `NONE` or `JWT` (with the authorizer's logical id and the scopes, any one of which suffices). */
  authorizationType: 'NONE' | 'JWT';
  authorizerId?: string;
  authorizationScopes: string[];
}

export interface LocalJwtAuthorizer {
  id: string;
  issuer: string;
  audience: string[];
  identitySource: string[];
}

export interface LocalAppClient {
  /** Locally the client id is the app client's name (Cognito generates random ids). */
  clientId: string;
  flows: string[];
  scopes: string[];
  generateSecret: boolean;
}

export interface LocalIdentity {
  userPoolId: string;
  /** The issuer of the pool's tokens, as the template names it. */
  issuer: string;
  preTokenGenerationArn?: string;
  clients: LocalAppClient[];
  groups: string[];
}

export interface LocalDeployment {
  stackName: string;
  tables: CreateTableCommandInput[];
  /** Table name -> TTL attribute. */
  ttl: Record<string, string>;
  functions: LocalFunction[];
  routes: LocalRoute[];
  /**
   * The stage's throttling by route key: its default route settings, overridden field by field by
   * its RouteSettings for that route. A route without limits in the stage has no entry.
   */
  throttling: Record<string, ThrottleLimits>;
  authorizers: LocalJwtAuthorizer[];
  identity?: LocalIdentity;
  buses: string[];
  rules: LocalRule[];
  /** Event archives of the buses (AWS::Events::Archive): created locally, replayable. */
  archives: LocalArchive[];
  stateMachine: { name: string; arn: string; definition: string };
  buckets: string[];
  secrets: { name: string; arn: string }[];
  /** Mail receiving: the receipt rules (of every rule set; locally each is active). */
  receiptRules: LocalReceiptRule[];
}

/** An SES receipt rule: the recipients it matches and its actions, in order (S3 and Lambda run locally). */
export interface LocalReceiptRule {
  name: string;
  /** Addresses or domains; none: every recipient. */
  recipients: string[];
  scanEnabled: boolean;
  actions: (
    | { type: 'S3'; bucketName: string; objectKeyPrefix: string }
    | { type: 'Lambda'; functionArn: string; invocationType: 'Event' | 'RequestResponse' }
  )[];
}

export interface LocalAccount {
  region: string;
  accountId: string;
}

const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

/**
 * The DynamoDB tables of a template as CreateTable inputs (local name = logical id without its hash),
 * and the TTL attribute of those that expire items. The runtime and the repository tests create
 * their tables from this, so the table definitions stay in infra/constructs/data.ts only.
 */
export function tablesOf(resources: Resources): { tables: CreateTableCommandInput[]; ttl: Record<string, string> } {
  const tables: CreateTableCommandInput[] = [];
  const ttl: Record<string, string> = {};
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::DynamoDB::GlobalTable' && r.Type !== 'AWS::DynamoDB::Table') continue;
    const p = r.Properties ?? {};
    const name = withoutHash(id);
    tables.push({
      TableName: name,
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: (
        p.GlobalSecondaryIndexes as { IndexName: string; KeySchema: never; Projection: never }[] | undefined
      )?.map((index) => ({ IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection })),
    });
    const ttlSpec = p.TimeToLiveSpecification as { Enabled?: boolean; AttributeName?: string } | undefined;
    if (ttlSpec?.Enabled && ttlSpec.AttributeName) ttl[name] = ttlSpec.AttributeName;
  }
  return { tables, ttl };
}

export function readDeployment(
  template: Record<string, unknown>,
  account: LocalAccount,
  options: { stackName: string; definitionFile: string },
): LocalDeployment {
  const { stackName, definitionFile } = options;
  const resources = (template.Resources ?? {}) as Resources;
  const { region, accountId } = account;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  // Local physical names, by logical id.
  const names = new Map<string, string>();
  const arns = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    const base = withoutHash(id);
    switch (r.Type) {
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        names.set(id, base);
        arns.set(id, `arn:aws:dynamodb:${region}:${accountId}:table/${base}`);
        break;
      case 'AWS::Lambda::Function':
        names.set(id, base);
        arns.set(id, `arn:aws:lambda:${region}:${accountId}:function:${base}`);
        break;
      case 'AWS::Events::EventBus':
        names.set(id, base);
        arns.set(id, `arn:aws:events:${region}:${accountId}:event-bus/${base}`);
        break;
      case 'AWS::S3::Bucket':
        names.set(id, base.toLowerCase().replace(/[^a-z0-9-]/g, '-'));
        arns.set(id, `arn:aws:s3:::${names.get(id)}`);
        break;
      case 'AWS::SecretsManager::Secret':
        names.set(id, base);
        // A partial ARN (no random suffix), which Secrets Manager accepts as a SecretId.
        arns.set(id, `arn:aws:secretsmanager:${region}:${accountId}:secret:${base}`);
        break;
      case 'AWS::SES::ConfigurationSet':
        names.set(id, base);
        break;
      case 'AWS::SES::ReceiptRuleSet':
        names.set(id, String(r.Properties?.RuleSetName ?? base));
        break;
      case 'AWS::Cognito::UserPool':
        names.set(id, `${region}_${base}`);
        arns.set(id, `arn:aws:cognito-idp:${region}:${accountId}:userpool/${region}_${base}`);
        break;
      case 'AWS::Cognito::UserPoolClient':
        names.set(id, String(r.Properties?.ClientName ?? base));
        break;
      case 'AWS::Cognito::UserPoolResourceServer':
        names.set(id, String(r.Properties?.Identifier));
        break;
      case 'AWS::ApiGatewayV2::Authorizer':
        names.set(id, id);
        break;
      case 'AWS::ApiGatewayV2::Api':
        // Its endpoint (a function's PUBLIC_API_URL) resolves; the runtime sets the local API's URL instead.
        names.set(id, 'local');
        break;
    }
  }

  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [[fn, arg]] = entries as [[string, unknown]];
      if (fn === 'Ref') return ref(String(arg));
      if (fn === 'Fn::GetAtt') {
        const [id, attribute] = arg as [string, string];
        if (attribute === 'Arn') return arns.get(id) ?? fail(`no local ARN for ${id}`);
        if (attribute === 'Name') return names.get(id) ?? fail(`no local name for ${id}`);
        if (attribute === 'ApiEndpoint' && resources[id]?.Type === 'AWS::ApiGatewayV2::Api')
          return `https://${names.get(id)}.execute-api.${region}.amazonaws.com`;
        return fail(`unsupported attribute ${id}.${attribute}`);
      }
      if (fn === 'Fn::Join') {
        const [separator, parts] = arg as [string, unknown[]];
        return parts.map((part) => String(resolve(part))).join(separator);
      }
      if (fn === 'Fn::Select') {
        const [index, list] = arg as [number, unknown];
        return (resolve(list) as unknown[])[index];
      }
      if (fn === 'Fn::Split') {
        const [separator, text] = arg as [string, unknown];
        return String(resolve(text)).split(separator);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  const ref = (id: string): string => {
    const pseudo: Record<string, string> = {
      'AWS::Region': region,
      'AWS::AccountId': accountId,
      'AWS::Partition': 'aws',
      'AWS::StackName': stackName,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    if (pseudo[id]) return pseudo[id];
    const type = resources[id]?.Type;
    if (type === 'AWS::SecretsManager::Secret' || type === 'AWS::StepFunctions::StateMachine') {
      return arns.get(id) ?? fail(`no local ARN for ${id}`);
    }
    return names.get(id) ?? fail(`cannot resolve Ref ${id} (${type ?? 'unknown resource'}) locally`);
  };

  // The state machine: its name, then its ARN, before functions reference it.
  const [smId, sm] = ofType('AWS::StepFunctions::StateMachine')[0] ?? fail('the template has no state machine');
  const smName = String(resolve(sm.Properties?.StateMachineName ?? withoutHash(smId)));
  const smArn = `arn:aws:states:${region}:${accountId}:stateMachine:${smName}`;
  names.set(smId, smName);
  arns.set(smId, smArn);

  const { tables, ttl } = tablesOf(resources);

  const functions: LocalFunction[] = ofType('AWS::Lambda::Function').flatMap(([id, r]) => {
    const entry = r.Metadata?.[ENTRY_METADATA_KEY];
    if (typeof entry !== 'string') return []; // CDK's own helper functions (e.g. bucket auto-delete) are not ours to run
    const env = ((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
      {}) as Record<string, unknown>;
    return [
      {
        logicalId: id,
        name: names.get(id) as string,
        arn: arns.get(id) as string,
        entry,
        ...(r.Metadata?.[FILES_METADATA_KEY]
          ? { files: r.Metadata[FILES_METADATA_KEY] as Record<string, string> }
          : {}),
        timeoutSeconds: Number(r.Properties?.Timeout ?? 3),
        memoryMb: Number(r.Properties?.MemorySize ?? 128),
        architecture: (r.Properties?.Architectures as string[] | undefined)?.[0] === 'arm64' ? 'arm64' : 'x86_64',
        environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(resolve(v))])),
        ...(r.Properties?.ReservedConcurrentExecutions !== undefined
          ? { reservedConcurrency: Number(r.Properties.ReservedConcurrentExecutions) }
          : {}),
      },
    ];
  });

  const integrations = new Map(
    ofType('AWS::ApiGatewayV2::Integration').map(([id, r]) => [id, String(resolve(r.Properties?.IntegrationUri))]),
  );
  const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]): LocalRoute => {
    const p = r.Properties ?? {};
    const target = p.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
    const integrationId = target['Fn::Join'][1][1].Ref;
    const authorizationType = String(p.AuthorizationType ?? 'NONE');
    if (authorizationType !== 'NONE' && authorizationType !== 'JWT')
      fail(`route ${String(p.RouteKey)}: authorization type ${authorizationType} is not supported locally`);
    return {
      routeKey: String(p.RouteKey),
      functionArn: integrations.get(integrationId) ?? fail(`route without integration`),
      authorizationType: authorizationType as LocalRoute['authorizationType'],
      ...(p.AuthorizerId ? { authorizerId: String(resolve(p.AuthorizerId)) } : {}),
      authorizationScopes: ((p.AuthorizationScopes ?? []) as unknown[]).map((v) => String(resolve(v))),
    };
  });
  const throttling = stageThrottling(
    ofType('AWS::ApiGatewayV2::Stage').map(([, stage]) => stage.Properties ?? {}),
    routes.map((route) => route.routeKey),
  );
  const authorizers = ofType('AWS::ApiGatewayV2::Authorizer').map(([id, r]): LocalJwtAuthorizer => {
    const p = r.Properties ?? {};
    if (p.AuthorizerType !== 'JWT') fail(`authorizer ${id}: only JWT authorizers run locally`);
    const jwt = (p.JwtConfiguration ?? {}) as { Issuer?: unknown; Audience?: unknown[] };
    return {
      id,
      issuer: String(resolve(jwt.Issuer)),
      audience: (jwt.Audience ?? []).map((v) => String(resolve(v))),
      identitySource: ((p.IdentitySource ?? []) as unknown[]).map(String),
    };
  });
  const [poolId, pool] = ofType('AWS::Cognito::UserPool')[0] ?? [];
  const trigger = (pool?.Properties?.LambdaConfig as Record<string, { LambdaArn?: unknown }> | undefined)
    ?.PreTokenGenerationConfig?.LambdaArn;
  const identity: LocalIdentity | undefined =
    poolId === undefined
      ? undefined
      : {
          userPoolId: names.get(poolId) as string,
          issuer: `https://cognito-idp.${region}.amazonaws.com/${names.get(poolId)}`,
          ...(trigger ? { preTokenGenerationArn: String(resolve(trigger)) } : {}),
          clients: ofType('AWS::Cognito::UserPoolClient').map(([id, c]) => ({
            clientId: names.get(id) as string,
            flows: ((c.Properties?.AllowedOAuthFlows ?? []) as unknown[]).map(String),
            scopes: ((c.Properties?.AllowedOAuthScopes ?? []) as unknown[]).map((v) => String(resolve(v))),
            generateSecret: c.Properties?.GenerateSecret === true,
          })),
          groups: ofType('AWS::Cognito::UserPoolGroup').map(([, g]) => String(g.Properties?.GroupName)),
        };

  const rules: LocalRule[] = ofType('AWS::Events::Rule').map(([id, r]) => ({
    name: withoutHash(id),
    eventBusName: String(resolve(r.Properties?.EventBusName ?? 'default')),
    // A pattern rule matches events; a schedule rule (rate/cron) emits "Scheduled Event"s itself.
    ...(r.Properties?.EventPattern !== undefined
      ? { eventPattern: resolve(r.Properties.EventPattern) as Record<string, unknown> }
      : {}),
    ...(r.Properties?.ScheduleExpression !== undefined
      ? { scheduleExpression: String(r.Properties.ScheduleExpression) }
      : {}),
    targets: ((r.Properties?.Targets ?? []) as { Id: string; Arn: unknown }[]).map((t) => ({
      id: t.Id,
      arn: String(resolve(t.Arn)),
    })),
  }));

  const archives: LocalArchive[] = ofType('AWS::Events::Archive').map(([id, a]) => ({
    name: String(a.Properties?.ArchiveName ?? withoutHash(id)),
    eventSourceArn: String(resolve(a.Properties?.SourceArn)),
    ...(a.Properties?.EventPattern !== undefined
      ? { eventPattern: resolve(a.Properties.EventPattern) as Record<string, unknown> }
      : {}),
    ...(a.Properties?.Description !== undefined ? { description: String(a.Properties.Description) } : {}),
    retentionDays: Number(a.Properties?.RetentionDays ?? 0),
  }));

  const receiptRules = ofType('AWS::SES::ReceiptRule').map(([id, r]): LocalReceiptRule => {
    const rule = (r.Properties?.Rule ?? {}) as Record<string, unknown>;
    const actions = ((rule.Actions ?? []) as Record<string, Record<string, unknown>>[]).map(
      (action): LocalReceiptRule['actions'][number] => {
        if (action.S3Action) {
          return {
            type: 'S3',
            bucketName: String(resolve(action.S3Action.BucketName)),
            objectKeyPrefix: String(action.S3Action.ObjectKeyPrefix ?? ''),
          };
        }
        if (action.LambdaAction) {
          return {
            type: 'Lambda',
            functionArn: String(resolve(action.LambdaAction.FunctionArn)),
            invocationType: action.LambdaAction.InvocationType === 'RequestResponse' ? 'RequestResponse' : 'Event',
          };
        }
        return fail(`receipt rule ${id}: only S3 and Lambda actions run locally (${Object.keys(action).join()})`);
      },
    );
    return {
      name: String(rule.Name ?? withoutHash(id)),
      recipients: ((rule.Recipients ?? []) as unknown[]).map(String),
      scanEnabled: rule.ScanEnabled === true,
      actions,
    };
  });

  const substitutions = Object.fromEntries(
    Object.entries((sm.Properties?.DefinitionSubstitutions ?? {}) as Record<string, unknown>).map(([k, v]) => [
      k,
      String(resolve(v)),
    ]),
  );
  // CDK ships a file definition as an S3 asset (DefinitionS3Location): read the same file here.
  const definitionText =
    sm.Properties?.DefinitionString !== undefined
      ? String(resolve(sm.Properties.DefinitionString))
      : readFileSync(definitionFile, 'utf8');

  return {
    stackName,
    tables,
    ttl,
    functions,
    routes,
    throttling,
    authorizers,
    ...(identity ? { identity } : {}),
    buses: ofType('AWS::Events::EventBus').map(([id]) => names.get(id) as string),
    rules,
    archives,
    stateMachine: { name: smName, arn: smArn, definition: substitute(definitionText, substitutions) },
    buckets: ofType('AWS::S3::Bucket').map(([id]) => names.get(id) as string),
    secrets: ofType('AWS::SecretsManager::Secret').map(([id]) => ({
      name: names.get(id) as string,
      arn: arns.get(id) as string,
    })),
    receiptRules,
  };
}

type RouteSettings = { ThrottlingRateLimit?: unknown; ThrottlingBurstLimit?: unknown };

/**
 * The throttling limits of each route of the API's stage (the `$default` stage, or the only one):
 * `DefaultRouteSettings` apply to every route, each route on its own bucket, and `RouteSettings` of a
 * route key replace them field by field. Without a rate and a burst a route is not throttled here
 * (in AWS only the account's limits would apply).
 */
export function stageThrottling(
  stages: Record<string, unknown>[],
  routeKeys: string[],
): Record<string, ThrottleLimits> {
  if (stages.length > 1 && !stages.some((s) => s.StageName === '$default'))
    fail(`${stages.length} HTTP API stages; the local API serves one ($default)`);
  const stage = stages.find((s) => s.StageName === '$default') ?? stages[0];
  if (!stage) return {};
  const defaults = (stage.DefaultRouteSettings ?? {}) as RouteSettings;
  const perRoute = (stage.RouteSettings ?? {}) as Record<string, RouteSettings>;
  const throttling: Record<string, ThrottleLimits> = {};
  for (const routeKey of routeKeys) {
    const own = perRoute[routeKey] ?? {};
    const rate = own.ThrottlingRateLimit ?? defaults.ThrottlingRateLimit;
    const burst = own.ThrottlingBurstLimit ?? defaults.ThrottlingBurstLimit;
    if (rate === undefined || burst === undefined) continue;
    throttling[routeKey] = { rateLimit: Number(rate), burstLimit: Number(burst) };
  }
  return throttling;
}

/** Fills `${Name}` placeholders as CloudFormation's DefinitionSubstitutions does; an unknown one is an error. */
export function substitute(definition: string, values: Record<string, string>): string {
  return definition.replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (_, key: string) => values[key] ?? fail(`no substitution for \${${key}}`),
  );
}

function fail(message: string): never {
  throw new Error(`Local deployment: ${message}`);
}
