import { faultRateFromEnv } from './faults.ts';
import { DEFAULT_PORTS, type Ports, startLocalRuntime } from './runtime.ts';

/** `npm start`: the whole system on this machine, until Ctrl-C. */
const PORT_VARIABLES: Record<keyof Ports, string> = {
  api: 'LOCAL_API_PORT',
  dynamodb: 'LOCAL_DYNAMODB_PORT',
  ses: 'LOCAL_SES_PORT',
  stepfunctions: 'LOCAL_SFN_PORT',
  eventbridge: 'LOCAL_EVENTBRIDGE_PORT',
  s3: 'LOCAL_S3_PORT',
  secretsmanager: 'LOCAL_SECRETS_PORT',
  auth: 'LOCAL_AUTH_PORT',
};

function portsFromEnv(): Ports {
  const ports = { ...DEFAULT_PORTS };
  for (const [key, variable] of Object.entries(PORT_VARIABLES) as [keyof Ports, string][]) {
    ports[key] = portFromEnv(variable, ports[key]);
  }
  return ports;
}

/** A port number from `variable`, or `fallback` when unset. */
function portFromEnv(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${variable} must be a port number (0-65535), got "${raw}"`);
  }
  return port;
}

function maxAttemptsFromEnv(): number | undefined {
  const raw = process.env.AWS_MAX_ATTEMPTS;
  if (raw === undefined || raw === '') return undefined;
  const attempts = Number(raw);
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`AWS_MAX_ATTEMPTS must be 1 or more, got "${raw}"`);
  return attempts;
}

async function main(): Promise<void> {
  const started = Date.now();
  const faultRate = faultRateFromEnv();
  console.log('Starting the sales order system locally…');
  const runtime = await startLocalRuntime({
    ports: portsFromEnv(),
    carrierDeliveryMs: process.env.CARRIER_SANDBOX_DELIVERY_MS
      ? Number(process.env.CARRIER_SANDBOX_DELIVERY_MS)
      : undefined,
    webhookSecret: process.env.CARRIER_WEBHOOK_SECRET || undefined,
    crmWebhookSecret: process.env.CRM_WEBHOOK_SECRET || undefined,
    approvalLinkSecret: process.env.APPROVAL_LINK_SECRET || undefined,
    feedbackSecret: process.env.FEEDBACK_SECRET || undefined,
    environment: { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
    faultRate,
    faultMaxAttempts: maxAttemptsFromEnv(),
    faultsPort: portFromEnv('LOCAL_FAULTS_PORT', 8087),
  });
  const { urls } = runtime;
  const clients = runtime.issuer.clients.map((c) => c.clientId).join(', ');
  // `npm run token` finds the issuer on LOCAL_AUTH_PORT: repeat a non-default port in the example.
  const tokenCommand =
    runtime.ports.auth === DEFAULT_PORTS.auth
      ? 'npm run -s token -- checkout'
      : `LOCAL_AUTH_PORT=${runtime.ports.auth} npm run -s token -- checkout`;
  const faultMode = urls.faults
    ? `
  FAULT MODE        ${Math.round(faultRate * 1000) / 10}% of the functions' AWS calls fail (half before, half after the service acts),
                    SDK attempts per call: ${process.env.AWS_MAX_ATTEMPTS || 2}; injected so far: ${urls.faults}
`
    : '';
  console.log(`
Ready in ${((Date.now() - started) / 1000).toFixed(1)} s.

  HTTP API          ${urls.api}            (GET /health, /products, /customers, POST /orders)
  Ops console       ${urls.api}/console    (KPIs, orders and their workflow path, stock, e-mails; as the ops demo client)
  OAuth2 tokens     ${urls.auth}            (POST /oauth2/token, JWKS at /.well-known/jwks.json)
  E-mails (SES)     ${urls.ses}            (viewer; raw JSON at ${urls.ses}/store)
  Order inbox       ${urls.api}/local/inbound-email  (SES receiving: npm run order:email -- local/examples/purchase-order.eml)
  Step Functions    ${urls.stepfunctions}  (state machine ${runtime.stateMachineArn})
  EventBridge       ${urls.eventbridge}    (recent events at ${urls.eventbridge}/events)
  DynamoDB          ${urls.dynamodb}
  S3                ${urls.s3}
  Secrets Manager   ${urls.secretsmanager}

Demo API clients (secret: local-<client id>-secret): ${clients}.
${faultMode}
Place an order as the web checkout:

  TOKEN=$(${tokenCommand})
  curl -s -X POST ${urls.api}/orders -H "authorization: Bearer $TOKEN" \\
    -H 'content-type: application/json' -H "Idempotency-Key: order-$(date +%s%N)" \\
    -d '{"customerId":"CUST-1002","currency":"EUR","lines":[{"sku":"WIDGET-BLUE","quantity":2,"unitPrice":1250}],
         "shippingAddress":{"name":"Jane Doe","line1":"Hauptstr. 1","city":"Berlin","postalCode":"10115","country":"DE"},
         "payment":{"method":"card","token":"tok_visa"}}'

then follow it with curl ${urls.api}/orders/<orderId> -H "authorization: Bearer $TOKEN" — the sandbox carrier
delivers after a couple of seconds and the invoice e-mail (PDF attached) appears at ${urls.ses}.

Ctrl-C stops everything.`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    const faults = runtime.faults?.snapshot();
    if (faults) {
      const byService = Object.entries(faults.byService)
        .map(([service, c]) => `${service} ${c.before}+${c.after}/${c.requests}`)
        .join(', ');
      console.log(
        `Faults injected: ${faults.total.before} before and ${faults.total.after} after the service acted, in ${faults.total.requests} AWS calls (${byService}).`,
      );
    }
    await runtime.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`\nCould not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
