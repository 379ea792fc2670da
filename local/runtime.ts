import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createRemoteJWKSet } from 'jose';
import { WORKFLOW_DEFINITION_FILE } from '../infra/workflow-definition.ts';
import { demoClients } from './auth/demo-clients.ts';
import { type RunningIssuer, startIssuer, type TokenGenerationEvent } from './auth/issuer.ts';
import { jwtAuthorizer } from './auth/verifier.ts';
import { consoleRoutes } from './console.ts';
import { startDynamoDbLocal } from './emulators/dynamodb.ts';
import { type LocalCredentials, type LocalEmulator, localCredentials } from './emulators/emulator.ts';
import { startS3Local } from './emulators/s3.ts';
import { startSecretsManagerLocal } from './emulators/secrets-manager.ts';
import { startSesLocal } from './emulators/ses.ts';
import { startEventBridgeService } from './eventbridge/service.ts';
import { type FaultCounts, FaultInjector, type FaultService } from './faults.ts';
import { type HttpApiRoute, type RouteAuthorizer, startHttpApi } from './http-api.ts';
import { inboundEmailRoute } from './inbound-email.ts';
import { LocalLambdas } from './lambda.ts';
import { UsageMeter } from './metering.ts';
import { type PortReservation, reservePort } from './ports.ts';
import { seedDemoData } from './seed.ts';
import { startStepFunctionsService, type TaskTimeoutOverride } from './stepfunctions/service.ts';
import { synthesizeApart } from './synth.ts';
import { type LocalDeployment, readDeployment } from './template.ts';

export const ROOT_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
export const DEFAULT_WEBHOOK_SECRET = 'local-development-carrier-secret';
/** Signs the CRM's deal webhook calls locally (Secrets Manager in AWS); the README's example uses it. */
export const DEFAULT_CRM_WEBHOOK_SECRET = 'local-development-crm-secret';
/** Signs the decision links of approval e-mails locally (Secrets Manager in AWS). */
export const DEFAULT_APPROVAL_LINK_SECRET = 'local-development-approval-link-secret';
/** Signs the survey links of the customer satisfaction e-mails locally (Secrets Manager in AWS). */
export const DEFAULT_FEEDBACK_SECRET = 'local-development-feedback-secret';

export interface Ports {
  api: number;
  dynamodb: number;
  ses: number;
  stepfunctions: number;
  eventbridge: number;
  s3: number;
  secretsmanager: number;
  auth: number;
}

/** The routes that take orders in: their functions run at a higher CPU priority than the rest (local/lambda.ts). */
export const INTAKE_ROUTES = ['POST /orders', 'POST /order-entries', 'POST /webhooks/crm'];

/** `npm start` defaults; tests pass 0 everywhere for free ports. */
export const DEFAULT_PORTS: Ports = {
  api: 3000,
  dynamodb: 8000,
  ses: 8005,
  stepfunctions: 8083,
  eventbridge: 8084,
  s3: 4569,
  secretsmanager: 8085,
  auth: 8086,
};

export interface RuntimeOptions {
  host?: string;
  ports?: Partial<Ports>;
  /** Demo catalog and customers (default true). */
  seed?: boolean;
  carrierDeliveryMs?: number;
  /** Unset: the sandbox carrier reports delivery to the local webhook by itself. False: deliver by hand. */
  autoDeliver?: boolean;
  webhookSecret?: string;
  /** The CRM deal webhook's secret (default DEFAULT_CRM_WEBHOOK_SECRET). */
  crmWebhookSecret?: string;
  approvalLinkSecret?: string;
  /** The survey links' secret (default DEFAULT_FEEDBACK_SECRET). */
  feedbackSecret?: string;
  /** Test knobs that compress time without touching the definition. */
  taskTimeoutOverrides?: Record<string, TaskTimeoutOverride>;
  retryIntervalOverrides?: Record<string, number | number[]>;
  /** The workflow's own TimeoutSeconds, in ms, so a TIMED_OUT execution can be observed. */
  executionTimeoutOverrideMs?: number;
  /** Extra variables for the functions (e.g. log level). */
  environment?: Record<string, string>;
  /**
   * Fault mode (default 0: off): this fraction of the functions' AWS API calls fail at the emulator
   * boundary, half before the service acts and half after (see local/faults.ts). Set-up and
   * anything that is not a function (tests' checks, the AWS CLI) reach the emulators directly.
   */
  faultRate?: number;
  /**
   * A DynamoDB Local that is already running without `-sharedDb` (a database per access key), and
   * the credentials of this runtime's database: runtimes that share one JVM (the tests') each keep
   * their tables apart, and delete them when they stop. Unset: the runtime starts a JVM of its own.
   */
  dynamodb?: { endpoint: string; credentials: LocalCredentials };
  /** Delays before Lambda's two retries of a failed asynchronous invocation (default about 1 and 2 minutes, as in AWS). */
  asyncRetryDelaysMs?: number[];
  /** The functions' `AWS_MAX_ATTEMPTS` in fault mode (default 2: one SDK retry), so faults reach handlers. */
  faultMaxAttempts?: number;
  /** Port of the fault counters (`GET /faults`) in fault mode; 0 (default) picks a free one. */
  faultsPort?: number;
  /**
   * Meters what the functions use of each AWS API, as AWS bills it (see local/metering.ts), for
   * the cost bench. Default false: the functions reach the emulators without it.
   */
  metering?: boolean;
  /**
   * Execution environments per function at most (default: local/lambda.ts DEFAULT_MAX_ENVIRONMENTS);
   * the API's functions and the token trigger may have twice as many, the order intake's at least
   * INTAKE_ENVIRONMENTS whatever this says.
   */
  maxEnvironments?: number;
}

export interface LocalRuntime {
  deployment: LocalDeployment;
  ports: Ports;
  urls: {
    api: string;
    dynamodb: string;
    ses: string;
    stepfunctions: string;
    eventbridge: string;
    s3: string;
    secretsmanager: string;
    /** The local OAuth2 issuer: POST /oauth2/token, GET /.well-known/jwks.json. */
    auth: string;
    /** `GET /faults`: what fault mode has injected (only in fault mode). */
    faults?: string;
  };
  stateMachineArn: string;
  /** What the functions sign their AWS calls with; a client of the runtime's tables needs the same. */
  credentials: LocalCredentials;
  issuer: RunningIssuer;
  /** Fault mode's proxies (undefined when it is off): the counts and the rate, changeable at run time. */
  faults?: { snapshot(): FaultCounts; setRate(rate: number): void; readonly rate: number };
  /** The usage meter, when started with `metering: true`. */
  meter?: UsageMeter;
  lambdas: LocalLambdas;
  /**
   * The variables a client of the functions' own adapters needs (the platform's region, credentials
   * and endpoints, and the configuration the functions agree on), for a process that uses them
   * directly; the runtime sets nothing in its host's environment.
   */
  functionEnvironment(): Record<string, string>;
  /** Waits for EventBridge deliveries in flight. */
  drainEvents(): Promise<void>;
  /** Fires a schedule rule of the template now (by its local name, e.g. `WorkflowOpenOrdersSweep`). */
  fireSchedule(ruleName: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the whole system on this machine: AWS API emulators, the deployment's tables, buckets,
 * secrets, rules and state machine (read from the synthesized template), the functions in their
 * execution environments (local/lambda.ts), and the HTTP API. Handlers reach the emulators through
 * the SDK's AWS_ENDPOINT_URL_* variables.
 */
export async function startLocalRuntime(options: RuntimeOptions = {}): Promise<LocalRuntime> {
  const host = options.host ?? '127.0.0.1';
  const stops: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const s of stops.reverse()) await s().catch((error) => console.error('stop failed:', error));
  };
  try {
    const external = options.dynamodb;
    const credentials = external?.credentials ?? localCredentials;
    // Free ports (0) are bound now and held until their service starts, so that nothing else takes them meanwhile.
    const reserved = await reservePorts(
      {
        ...DEFAULT_PORTS,
        ...options.ports,
        ...(external ? { dynamodb: Number(new URL(external.endpoint).port) } : {}),
      },
      host,
    );
    stops.push(() => reserved.release(...PORT_NAMES));
    const ports = reserved.ports;
    const url = (port: number) => `http://${host}:${port}`;
    const urls = {
      api: url(ports.api),
      dynamodb: external?.endpoint ?? url(ports.dynamodb),
      ses: url(ports.ses),
      stepfunctions: url(ports.stepfunctions),
      eventbridge: url(ports.eventbridge),
      s3: url(ports.s3),
      secretsmanager: url(ports.secretsmanager),
      auth: url(ports.auth),
    };

    const deployment = readDeployment(
      await synthesizeApart(),
      { region: REGION, accountId: ACCOUNT_ID },
      {
        stackName: 'SalesOrders',
        definitionFile: WORKFLOW_DEFINITION_FILE,
      },
    );

    await reserved.release('dynamodb', 'ses', 's3', 'secretsmanager');
    const emulators = await Promise.allSettled([
      external
        ? sharedDatabase(
            external.endpoint,
            credentials,
            deployment.tables.map((table) => table.TableName as string),
          )
        : startDynamoDbLocal({ host, port: ports.dynamodb }),
      startSesLocal({ host, port: ports.ses }),
      startS3Local({ host, port: ports.s3 }),
      startSecretsManagerLocal({
        host,
        port: ports.secretsmanager,
        region: REGION,
        accountId: ACCOUNT_ID,
        secrets: deployment.secrets.map((s) => ({
          name: s.name,
          value: /ApprovalsLinkSecret/.test(s.name)
            ? (options.approvalLinkSecret ?? DEFAULT_APPROVAL_LINK_SECRET)
            : /FeedbackTokenSecret/.test(s.name)
              ? (options.feedbackSecret ?? DEFAULT_FEEDBACK_SECRET)
              : /CrmWebhookSecret/.test(s.name)
                ? (options.crmWebhookSecret ?? DEFAULT_CRM_WEBHOOK_SECRET)
                : (options.webhookSecret ?? DEFAULT_WEBHOOK_SECRET),
        })),
      }),
    ]);
    // Those that started are stopped with the rest when another one failed.
    for (const started of emulators) if (started.status === 'fulfilled') stops.push(started.value.stop);
    const failed = emulators.find((e): e is PromiseRejectedResult => e.status === 'rejected');
    if (failed) throw failed.reason;

    // Fault mode: the functions reach each emulator through a fault-injecting proxy. Injection starts
    // once set-up (tables, seed data) is done.
    const faultRate = options.faultRate ?? 0;
    const faults = faultRate > 0 ? new FaultInjector({ host }) : undefined;
    const functionUrls: Record<FaultService, string> = {
      dynamodb: urls.dynamodb,
      sesv2: urls.ses,
      sfn: urls.stepfunctions,
      eventbridge: urls.eventbridge,
      s3: urls.s3,
      secretsmanager: urls.secretsmanager,
    };
    if (faults) {
      stops.push(() => faults.close());
      for (const [service, target] of Object.entries(functionUrls) as [FaultService, string][]) {
        functionUrls[service] = (await faults.proxy(service, target)).endpoint;
      }
    }
    // Metering sits in front of everything else: it sees what the functions sent and were answered.
    const meter = options.metering ? new UsageMeter(host) : undefined;
    if (meter) {
      stops.push(() => meter.close());
      for (const [service, target] of Object.entries(functionUrls) as [FaultService, string][]) {
        functionUrls[service] = await meter.proxy(service, target);
      }
    }

    // The functions of these routes, and the token trigger their clients call first.
    const tokenTrigger = deployment.identity?.preTokenGenerationArn;
    const functionsOf = (routes: typeof deployment.routes) =>
      new Set([...routes.map((route) => route.functionArn), ...(tokenTrigger ? [tokenTrigger] : [])]);
    const lambdas = new LocalLambdas(deployment.functions, ROOT_DIR, {
      maxEnvironments: options.maxEnvironments,
      // A caller waits on each call of the API's functions.
      interactive: functionsOf(deployment.routes),
      // New orders come first: the intake's functions run ahead of everything else.
      foreground: functionsOf(deployment.routes.filter((route) => INTAKE_ROUTES.includes(route.routeKey))),
    });
    stops.push(() => lambdas.close());
    // What the Lambda platform gives every function here: region, credentials, the emulators'
    // endpoints, and the sandbox carrier's local settings.
    const platform: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: functionUrls.dynamodb,
      AWS_ENDPOINT_URL_SESV2: functionUrls.sesv2,
      AWS_ENDPOINT_URL_SFN: functionUrls.sfn,
      AWS_ENDPOINT_URL_EVENTBRIDGE: functionUrls.eventbridge,
      AWS_ENDPOINT_URL_S3: functionUrls.s3,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: functionUrls.secretsmanager,
      // The user pool's API (DescribeUserPoolClient, read by the token trigger) is the local issuer's.
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: urls.auth,
      // The SDK's standard retry setting: with fewer attempts, faults reach the handlers and the workflow.
      ...(faults ? { AWS_MAX_ATTEMPTS: String(options.faultMaxAttempts ?? 2) } : {}),
      POWERTOOLS_METRICS_DISABLED: 'true',
      CARRIER_SANDBOX_DELIVERY_MS: String(options.carrierDeliveryMs ?? 2000),
      CARRIER_SANDBOX_WEBHOOK_URL: options.autoDeliver === false ? '' : `${urls.api}/webhooks/carrier`,
    };

    await createResources(deployment, urls, credentials);
    // Approval and survey e-mails link to this API; their mail lands in the local SES mailbox.
    await lambdas.load(platform, { PUBLIC_API_URL: urls.api, ...options.environment });
    if (options.seed !== false) {
      const env = lambdas.environment();
      await seedDemoData(
        {
          products: env.PRODUCTS_TABLE_NAME as string,
          stock: env.STOCK_TABLE_NAME as string,
          customers: env.CUSTOMERS_TABLE_NAME as string,
        },
        urls.dynamodb,
        credentials,
      );
    }

    await reserved.release('eventbridge', 'stepfunctions', 'auth', 'api');
    const eventbridge = await startEventBridgeService({
      host,
      port: ports.eventbridge,
      region: REGION,
      accountId: ACCOUNT_ID,
      buses: deployment.buses,
      rules: deployment.rules,
      archives: deployment.archives,
      // EventBridge invokes Lambda targets asynchronously with the event envelope; Lambda retries a failure.
      deliver: (target, event) =>
        lambdas.invokeAsync(target.arn, event, options.asyncRetryDelaysMs).catch((error: unknown) => {
          if (!stopping) throw error; // deliveries cut short by the runtime stopping go with it, unreported
        }),
    });
    stops.push(eventbridge.close);

    const stepfunctions = await startStepFunctionsService({
      host,
      port: ports.stepfunctions,
      region: REGION,
      accountId: ACCOUNT_ID,
      stateMachines: [{ name: deployment.stateMachine.name, definition: deployment.stateMachine.definition }],
      lambda: lambdas,
      onStatusChange: (event) => eventbridge.emitServiceEvent(event),
      taskTimeoutOverrides: options.taskTimeoutOverrides,
      retryIntervalOverrides: options.retryIntervalOverrides,
      executionTimeoutOverrideMs: options.executionTimeoutOverrideMs,
    });
    stops.push(stepfunctions.close);

    // The user pool's token endpoint, with its demo clients and its pre-token-generation trigger.
    const identity = deployment.identity;
    if (!identity) throw new Error('Local deployment: the template has no user pool');
    const trigger = identity.preTokenGenerationArn;
    const issuer = await startIssuer({
      host,
      port: ports.auth,
      issuer: identity.issuer,
      region: REGION,
      userPoolId: identity.userPoolId,
      clients: demoClients(identity),
      appClients: identity.clients.map((c) => ({ clientId: c.clientId, allowedScopes: c.scopes, flows: c.flows })),
      ...(trigger
        ? { preTokenGeneration: async (e) => (await lambdas.invoke(trigger, e)) as TokenGenerationEvent }
        : {}),
    });
    stops.push(issuer.close);

    // As API Gateway does, the authorizer fetches the issuer's keys over HTTP (and caches them).
    const keys = createRemoteJWKSet(new URL(issuer.jwksUrl));
    const authorizers = new Map<string, RouteAuthorizer>(
      deployment.authorizers.map((a) => {
        if (a.issuer !== identity.issuer)
          throw new Error(`Authorizer ${a.id} trusts an issuer the local runtime does not run`);
        return [a.id, jwtAuthorizer(a, keys)];
      }),
    );
    let faultsUrl: string | undefined;
    if (faults) {
      faultsUrl = `${await faults.serveCounts(options.faultsPort ?? 0)}/faults`;
      faults.setRate(faultRate);
    }

    // SES mail receiving (the template's receipt rules): the local-only POST /local/inbound-email.
    const receiving = receivingServices(urls.s3, lambdas, options.asyncRetryDelaysMs);
    stops.push(async () => receiving.s3.destroy());
    const localRoutes =
      deployment.receiptRules.length > 0 ? [inboundEmailRoute(deployment.receiptRules, receiving)] : [];
    // The ops console (`GET /console`) and its same-origin pass-through to the issuer, Step Functions and SES.
    localRoutes.push(...consoleRoutes({ stepfunctions: urls.stepfunctions, ses: urls.ses, auth: urls.auth }));

    const api = await startHttpApi({
      host,
      port: ports.api,
      apiId: 'local',
      throttling: deployment.throttling,
      routes: deployment.routes
        .map((route): HttpApiRoute => {
          const authorize = route.authorizerId ? authorizers.get(route.authorizerId) : undefined;
          if (route.authorizationType === 'JWT' && !authorize)
            throw new Error(`Route ${route.routeKey} names an unknown authorizer`);
          return {
            routeKey: route.routeKey,
            invoke: (event) => lambdas.invoke(route.functionArn, event),
            ...(authorize ? { authorization: { authorize, scopes: route.authorizationScopes } } : {}),
          };
        })
        .concat(localRoutes),
    });
    stops.push(api.close);

    return {
      deployment,
      ports,
      urls: { ...urls, ...(faultsUrl ? { faults: faultsUrl } : {}) },
      stateMachineArn: deployment.stateMachine.arn,
      credentials,
      issuer,
      faults,
      meter,
      lambdas,
      functionEnvironment: () => ({ ...platform, ...lambdas.environment() }),
      drainEvents: () => eventbridge.drain(),
      fireSchedule: (ruleName) => eventbridge.fireSchedule(ruleName),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** What SES's receipt actions do: store the message (straight to the S3 emulator) and invoke the function. */
function receivingServices(s3Url: string, lambdas: LocalLambdas, retryDelaysMs?: number[]) {
  const s3 = new S3Client({
    region: REGION,
    endpoint: s3Url,
    credentials: localCredentials,
    forcePathStyle: true,
  });
  return {
    s3,
    putObject: async (bucket: string, key: string, body: Uint8Array) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'message/rfc822' }));
    },
    invoke: async (arn: string, event: unknown, invocationType: 'Event' | 'RequestResponse') => {
      if (invocationType === 'RequestResponse') {
        await lambdas.invoke(arn, event);
        return;
      }
      // Asynchronous, as SES invokes: Lambda retries a failed event twice, then drops it.
      void lambdas.invokeAsync(arn, event, retryDelaysMs).catch((error: unknown) => {
        console.error(`Inbound e-mail: ${arn} failed after Lambda's retries: ${(error as Error).name}`);
      });
    },
  };
}

const PORT_NAMES = Object.keys(DEFAULT_PORTS) as (keyof Ports)[];

/** The ports with every 0 replaced by a reserved free port; `release` frees the named ones for their services. */
async function reservePorts(
  wanted: Ports,
  host: string,
): Promise<{ ports: Ports; release(...names: (keyof Ports)[]): Promise<void> }> {
  const reservations = new Map<keyof Ports, PortReservation>();
  const ports = { ...wanted };
  try {
    for (const name of PORT_NAMES) {
      if (wanted[name] !== 0) continue;
      const reservation = await reservePort(host);
      reservations.set(name, reservation);
      ports[name] = reservation.port;
    }
  } catch (error) {
    await Promise.all([...reservations.values()].map((r) => r.release()));
    throw error;
  }
  return {
    ports,
    release: async (...names) => {
      await Promise.all(names.map((name) => reservations.get(name)?.release()));
    },
  };
}

async function createResources(
  deployment: LocalDeployment,
  urls: LocalRuntime['urls'],
  credentials: LocalCredentials,
): Promise<void> {
  const dynamo = new DynamoDBClient({ region: REGION, endpoint: urls.dynamodb, credentials });
  const s3 = new S3Client({ region: REGION, endpoint: urls.s3, credentials, forcePathStyle: true });
  await Promise.all(deployment.tables.map((table) => dynamo.send(new CreateTableCommand(table))));
  await Promise.all(
    Object.entries(deployment.ttl).map(([TableName, AttributeName]) =>
      dynamo.send(
        new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName } }),
      ),
    ),
  );
  await Promise.all(deployment.buckets.map((Bucket) => s3.send(new CreateBucketCommand({ Bucket }))));
  dynamo.destroy();
  s3.destroy();
}

/**
 * This runtime's database in a DynamoDB Local that runs without `-sharedDb`: the deployment's tables
 * are deleted when it stops, and nothing else (the JVM, and the other runtimes' databases, stay).
 */
async function sharedDatabase(
  endpoint: string,
  credentials: LocalCredentials,
  tableNames: string[],
): Promise<LocalEmulator> {
  const dynamo = new DynamoDBClient({ region: REGION, endpoint, credentials });
  return {
    endpoint,
    port: Number(new URL(endpoint).port),
    startupMs: 0,
    stop: async () => {
      try {
        const deleted = await Promise.allSettled(
          tableNames.map((TableName) => dynamo.send(new DeleteTableCommand({ TableName }))),
        );
        // A start that failed before creating them all leaves some not found.
        const failed = deleted.find(
          (d): d is PromiseRejectedResult =>
            d.status === 'rejected' && (d.reason as Error).name !== 'ResourceNotFoundException',
        );
        if (failed) throw failed.reason;
      } finally {
        dynamo.destroy();
      }
    },
  };
}
