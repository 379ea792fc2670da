import { Duration, type RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { FONT_BUNDLE_FILES } from '../functions/adapters/pdf/fonts.ts';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS } from '../functions/core/approval.ts';
import { DEFAULT_DELIVERY_SLA_DAYS } from '../functions/core/delivery-sla.ts';
import { OrderApi } from './constructs/api.ts';
import { OrderApprovals } from './constructs/approvals.ts';
import { OrderData } from './constructs/data.ts';
import { OrderEmail } from './constructs/email.ts';
import { OrderEvents } from './constructs/events.ts';
import { CustomerFeedback } from './constructs/feedback.ts';
import { OrderIdentity } from './constructs/identity.ts';
import { OrderInbox } from './constructs/inbox.ts';
import { OrderObservability } from './constructs/observability.ts';
import { OrderFunction } from './constructs/order-function.ts';
import { OrderDocuments } from './constructs/storage.ts';
import { WebhookPartner } from './constructs/webhook-partner.ts';
import { OrderWorkflow } from './constructs/workflow.ts';

export interface OrderStackProps extends StackProps {
  senderEmail: string;
  financeEmail: string;
  /** RETAIN in production (default); DESTROY for throw-away stacks. */
  removalPolicy?: RemovalPolicy;
  /** Customer-bound API clients (B2B portal, EDI): app client name -> customer id. */
  buyerClients?: Record<string, string>;
  /** Cognito domain prefix for the OAuth2 token endpoint (default: stack name + account). */
  authDomainPrefix?: string;
  /** Callback URLs of the staff sign-in app. */
  staffCallbackUrls?: string[];
  /** Who receives approval requests (default: context `approversEmail`, else the finance mailbox). */
  approversEmail?: string;
  /** The order inbox SES receives orders at (default: context `orderInbox`, else orders@example.com). */
  orderInbox?: string;
  /** An address the alarms are e-mailed to (default: context `alertEmail`, else none). */
  alertEmail?: string;
  /** Days after its shipment an undelivered parcel counts as overdue (default: context `deliverySlaDays`, else 7). */
  deliverySlaDays?: number;
}

/** The sales order system: one stack, one construct per concern. */
export class OrderStack extends Stack {
  readonly data: OrderData;
  readonly workflow: OrderWorkflow;
  readonly api: OrderApi;
  readonly identity: OrderIdentity;
  readonly reconciler: OrderFunction;
  readonly events: OrderEvents;
  readonly observability: OrderObservability;

  constructor(scope: Construct, id: string, props: OrderStackProps) {
    super(scope, id, props);
    const data = new OrderData(this, 'Data', { removalPolicy: props.removalPolicy });
    const documents = new OrderDocuments(this, 'Documents', { removalPolicy: props.removalPolicy });
    const email = new OrderEmail(this, 'Email', { senderEmail: props.senderEmail, financeEmail: props.financeEmail });
    const carrier = new WebhookPartner(this, 'Carrier', {
      description: 'Shared secret that signs carrier webhook calls (X-Signature HMAC-SHA256)',
      secretIdVariable: 'CARRIER_WEBHOOK_SECRET_ID',
    });
    const crm = new WebhookPartner(this, 'Crm', {
      description: 'Shared secret that signs CRM deal webhook calls (X-Signature HMAC-SHA256)',
      secretIdVariable: 'CRM_WEBHOOK_SECRET_ID',
    });
    // `-c approvalTimeoutSeconds=86400 -c highValueThresholds=EUR=500000,USD=550000 -c approversEmail=…`
    const approvals = new OrderApprovals(this, 'Approvals', {
      approversEmail:
        props.approversEmail ?? (this.node.tryGetContext('approversEmail') as string | undefined) ?? props.financeEmail,
      // One setting for the state's wait and the request's expiry (the link answers 410 after it).
      timeoutSeconds: Number(this.node.tryGetContext('approvalTimeoutSeconds') ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS),
      highValueThresholds: String(this.node.tryGetContext('highValueThresholds') ?? 'EUR=500000'),
    });
    const fn = (
      id: string,
      stage: string,
      description: string,
      extra: { timeout?: Duration; memorySize?: number; files?: Record<string, string> } = {},
    ) => new OrderFunction(this, id, { stage, description, ...extra });

    const recordKpi = fn('RecordKpi', 'record-kpi', 'Projects order domain events into the KPI table and metrics');
    const events = new OrderEvents(this, 'Events', { kpiConsumer: recordKpi, removalPolicy: props.removalPolicy });

    // Workflow tasks: the keys are the ASL's ${<Key>FunctionArn} placeholders.
    const tasks = {
      ValidateOrder: fn('ValidateOrder', 'validate-order', 'Checks customer, products, prices, tax and credit'),
      RequestApproval: fn(
        'RequestApproval',
        'request-approval',
        'Stores an approval request with its task token and e-mails the approvers',
      ),
      ReserveStock: fn('ReserveStock', 'reserve-stock', 'Reserves all order lines in one transaction'),
      AuthorizePayment: fn('AuthorizePayment', 'authorize-payment', 'Authorizes the card payment'),
      CreateShipment: fn('CreateShipment', 'create-shipment', 'Books the carrier and ships the held stock'),
      AwaitDelivery: fn('AwaitDelivery', 'await-delivery', 'Parks the task token until the carrier confirms delivery'),
      CapturePayment: fn('CapturePayment', 'capture-payment', 'Captures the authorized payment after delivery'),
      IssueInvoice: fn('IssueInvoice', 'issue-invoice', 'Numbers, renders, stores and e-mails the invoice', {
        timeout: Duration.seconds(60),
        memorySize: 1024,
        files: FONT_BUNDLE_FILES,
      }),
      CompleteOrder: fn('CompleteOrder', 'complete-order', 'Marks the order completed'),
      VoidPayment: fn('VoidPayment', 'void-payment', 'Compensation: voids or refunds the payment'),
      ReleaseStock: fn('ReleaseStock', 'release-stock', 'Compensation: releases held stock'),
      CloseOrder: fn('CloseOrder', 'close-order', 'Ends an order REJECTED or FAILED with its reason'),
      AwaitBackorder: fn('AwaitBackorder', 'await-backorder', 'Parks the task token until the backorder is filled'),
      ExpireBackorder: fn('ExpireBackorder', 'expire-backorder', 'Cancels an expired backorder and tells the customer'),
    };
    const workflow = new OrderWorkflow(this, 'Workflow', {
      tasks,
      approvalTimeoutSeconds: approvals.timeoutSeconds,
    });
    const reconciler = fn(
      'ReconcileOrders',
      'reconcile-orders',
      'Compensates and fails orders whose workflow was stopped, timed out or failed; sweeps open orders',
      { timeout: Duration.minutes(5) },
    );
    workflow.addReconciler(reconciler, { sweepEvery: Duration.minutes(5), target: events.lambdaTarget(reconciler) });

    const routes = {
      // Short: a capture whose idempotency record was left in progress (a lost response) blocks
      // retries with the same key until the function's timeout has passed.
      placeOrder: fn('PlaceOrder', 'place-order', 'POST /orders', { timeout: Duration.seconds(10) }),
      enterOrder: fn('EnterOrder', 'enter-order', 'POST /order-entries', { timeout: Duration.seconds(10) }),
      getOrder: fn('GetOrder', 'get-order', 'GET /orders/{orderId}'),
      listOrders: fn('ListOrders', 'list-orders', 'GET /orders (search)'),
      cancelOrder: fn('CancelOrder', 'cancel-order', 'POST /orders/{orderId}/cancel'),
      listProducts: fn('ListProducts', 'list-products', 'GET /products'),
      setStock: fn('SetStock', 'set-stock', 'PUT /products/{sku}/stock'),
      adjustStock: fn('AdjustStock', 'adjust-stock', 'POST /products/{sku}/stock/adjustments'),
      listCustomers: fn('ListCustomers', 'list-customers', 'GET /customers'),
      carrierWebhook: fn('CarrierWebhook', 'carrier-webhook', 'POST /webhooks/carrier'),
      // Short, as PlaceOrder: an event left in progress blocks the CRM's retries until the timeout has passed.
      crmWebhook: fn('CrmWebhook', 'crm-webhook', 'POST /webhooks/crm', { timeout: Duration.seconds(10) }),
      decideApproval: fn('DecideApproval', 'decide-approval', 'POST /approvals/{approvalId}'),
      health: fn('Health', 'health', 'GET /health'),
      openApi: fn('OpenApi', 'openapi', 'GET /openapi.json'),
      getInvoice: fn('GetInvoice', 'get-invoice', 'GET /invoices/{number}[/pdf], GET /credit-notes/{number}[/pdf]'),
      listInvoices: fn('ListInvoices', 'list-invoices', 'GET /invoices'),
      issueCreditNote: fn('IssueCreditNote', 'issue-credit-note', 'POST /invoices/{number}/credit-notes', {
        timeout: Duration.seconds(60),
        memorySize: 1024,
        files: FONT_BUNDLE_FILES,
      }),
      recordPayment: fn('RecordPayment', 'record-payment', 'POST /invoices/{number}/payments'),
      feedbackForm: fn('FeedbackForm', 'feedback-form', 'GET /feedback/{token}'),
      recordFeedback: fn('RecordFeedback', 'record-feedback', 'POST /feedback/{token}'),
      getKpis: fn('GetKpis', 'get-kpis', 'GET /kpis'),
    };
    const identity = new OrderIdentity(this, 'Identity', {
      preTokenGeneration: fn(
        'PreTokenGeneration',
        'pre-token-generation',
        'Cognito trigger: scopes from groups, customer claim for bound clients',
      ),
      buyerClients: props.buyerClients ?? buyerClientsFrom(this.node.tryGetContext('buyerClients')),
      staffCallbackUrls:
        props.staffCallbackUrls ??
        String(this.node.tryGetContext('staffCallbackUrls') ?? 'http://localhost:8080/callback').split(','),
      domainPrefix:
        props.authDomainPrefix ??
        (this.node.tryGetContext('authDomainPrefix') as string | undefined) ??
        `${this.stackName.toLowerCase()}-${this.account}`,
      removalPolicy: props.removalPolicy,
    });
    this.identity = identity;
    // Access per route: functions/core/access.ts (ROUTE_ACCESS).
    this.api = new OrderApi(this, 'Api', {
      authorizer: identity.authorizer,
      routes: [
        { method: HttpMethod.POST, path: '/orders', fn: routes.placeOrder },
        { method: HttpMethod.GET, path: '/orders', fn: routes.listOrders },
        { method: HttpMethod.GET, path: '/orders/{orderId}', fn: routes.getOrder },
        { method: HttpMethod.POST, path: '/orders/{orderId}/cancel', fn: routes.cancelOrder },
        { method: HttpMethod.POST, path: '/order-entries', fn: routes.enterOrder },
        { method: HttpMethod.GET, path: '/products', fn: routes.listProducts },
        { method: HttpMethod.PUT, path: '/products/{sku}/stock', fn: routes.setStock },
        { method: HttpMethod.POST, path: '/products/{sku}/stock/adjustments', fn: routes.adjustStock },
        { method: HttpMethod.GET, path: '/customers', fn: routes.listCustomers },
        { method: HttpMethod.GET, path: '/invoices', fn: routes.listInvoices },
        { method: HttpMethod.GET, path: '/invoices/{number}', fn: routes.getInvoice },
        { method: HttpMethod.GET, path: '/invoices/{number}/pdf', fn: routes.getInvoice },
        { method: HttpMethod.POST, path: '/invoices/{number}/credit-notes', fn: routes.issueCreditNote },
        { method: HttpMethod.POST, path: '/invoices/{number}/payments', fn: routes.recordPayment },
        { method: HttpMethod.GET, path: '/credit-notes/{number}', fn: routes.getInvoice },
        { method: HttpMethod.GET, path: '/credit-notes/{number}/pdf', fn: routes.getInvoice },
        { method: HttpMethod.GET, path: '/kpis', fn: routes.getKpis },
        { method: HttpMethod.POST, path: '/approvals/{approvalId}', fn: routes.decideApproval },
        { method: HttpMethod.POST, path: '/webhooks/carrier', fn: routes.carrierWebhook },
        { method: HttpMethod.POST, path: '/webhooks/crm', fn: routes.crmWebhook },
        { method: HttpMethod.GET, path: '/feedback/{token}', fn: routes.feedbackForm },
        { method: HttpMethod.POST, path: '/feedback/{token}', fn: routes.recordFeedback },
        { method: HttpMethod.GET, path: '/health', fn: routes.health },
        { method: HttpMethod.GET, path: '/openapi.json', fn: routes.openApi },
      ],
    });

    // Where e-mailed links point (approval decisions, surveys): `-c publicApiUrl=https://api.example.com`
    // for a custom domain, else the HTTP API's own URL.
    const publicApiUrl = (this.node.tryGetContext('publicApiUrl') as string | undefined) ?? this.api.api.apiEndpoint;

    // Least privilege: each function gets exactly the tables and services it touches.
    const stageFunctions = [
      tasks.ValidateOrder,
      tasks.ReserveStock,
      tasks.AuthorizePayment,
      tasks.CreateShipment,
      tasks.CapturePayment,
      tasks.IssueInvoice,
      tasks.CompleteOrder,
      tasks.VoidPayment,
      tasks.ReleaseStock,
      tasks.CloseOrder,
      tasks.ExpireBackorder,
      reconciler,
      routes.carrierWebhook,
      routes.placeOrder,
      routes.enterOrder,
    ];
    for (const f of stageFunctions) {
      data.bindTable(f, 'orders', 'write');
      events.grantPublish(f);
    }
    data.bindTable(tasks.ValidateOrder, 'customers', 'write');
    data.bindTable(tasks.CloseOrder, 'customers', 'write');
    // CompleteOrder gives back what is left of an on-account hold (a backorder cancelled after a shipment).
    data.bindTable(tasks.CompleteOrder, 'customers', 'write');
    // Compensation: payment, shipment, stock and credit are given back (lib/compensation.ts).
    for (const f of [tasks.VoidPayment, tasks.ReleaseStock, reconciler]) {
      data.bindTable(f, 'stock', 'write');
      data.bindTable(f, 'customers', 'write');
    }
    data.bindTable(tasks.ValidateOrder, 'products', 'read');
    for (const f of [tasks.ReserveStock, tasks.CreateShipment]) data.bindTable(f, 'stock', 'write');
    // Backorders: stock arriving through the stock routes serves waiting orders and resumes their workflows;
    // the release and fill transactions delete and update BACKORDER items (readwrite).
    for (const f of [tasks.ReleaseStock, tasks.VoidPayment, reconciler]) data.bindTable(f, 'orders', 'readwrite');
    // The sweep serves backorders a failed stock route left waiting, and resumes filled ones.
    workflow.grantTaskResponse(reconciler);
    data.bindTable(reconciler, 'approvals', 'write'); // resumes decisions whose resume was lost
    for (const f of [routes.setStock, routes.adjustStock, tasks.AwaitBackorder]) {
      data.bindTable(f, 'stock', 'write');
      data.bindTable(f, 'orders', 'readwrite');
      data.bindTable(f, 'products', 'read');
      workflow.grantTaskResponse(f);
      events.grantPublish(f);
    }
    data.bindTable(tasks.ExpireBackorder, 'orders', 'readwrite');
    // Releases a cancelled order's allocations that were not booked (CancelBackorder, CheckBackorder).
    data.bindTable(tasks.ExpireBackorder, 'stock', 'readwrite');
    data.bindTable(tasks.ExpireBackorder, 'customers', 'read');
    email.grantSend(tasks.ExpireBackorder);
    data.bindTable(tasks.IssueInvoice, 'customers', 'write');
    data.bindTable(tasks.IssueInvoice, 'invoices', 'write');
    // Closing an order without its invoice withdraws a request still waiting for its number.
    for (const f of [tasks.CloseOrder, reconciler]) data.bindTable(f, 'invoices', 'write');
    documents.grantWriteInvoices(tasks.IssueInvoice);
    email.grantSend(tasks.IssueInvoice);
    carrier.grantWebhookSecret(tasks.CreateShipment);
    carrier.grantWebhookSecret(routes.carrierWebhook);
    workflow.grantTaskResponse(tasks.AwaitDelivery);
    workflow.grantTaskResponse(routes.carrierWebhook);
    data.bindTable(tasks.AwaitDelivery, 'orders', 'write');

    // Approvals: ValidateOrder decides, RequestApproval stores the request and mails the signed link,
    // the decision route records the decision once, takes an approved order's credit hold and resumes.
    approvals.configure(tasks.ValidateOrder);
    approvals.configure(tasks.RequestApproval);
    approvals.addApprovers(tasks.RequestApproval);
    for (const f of [tasks.RequestApproval, routes.decideApproval]) {
      data.bindTable(f, 'approvals', 'write');
      data.bindTable(f, 'orders', 'write');
      approvals.grantLinkSecret(f);
      workflow.grantTaskResponse(f);
    }
    data.bindTable(tasks.RequestApproval, 'customers', 'read');
    data.bindTable(routes.decideApproval, 'customers', 'write');
    email.grantSend(tasks.RequestApproval);
    tasks.RequestApproval.addEnvironment('PUBLIC_API_URL', publicApiUrl);

    // Cancellation: one conditional write on the order, then the approval it waits for is expired and
    // a waiting task failed with OrderCancelled (SendTaskFailure on this state machine only).
    data.bindTable(routes.cancelOrder, 'orders', 'write');
    data.bindTable(routes.cancelOrder, 'approvals', 'write');
    events.grantPublish(routes.cancelOrder);
    workflow.grantTaskFailure(routes.cancelOrder);
    // CloseCancelledOrder tells the customer what was cancelled.
    data.bindTable(tasks.CloseOrder, 'customers', 'write');
    email.grantSend(tasks.CloseOrder);

    // CRM deals: the company's customer and the list prices are read, the order captured by the one intake.
    crm.grantWebhookSecret(routes.crmWebhook);
    data.bindTable(routes.crmWebhook, 'customers', 'read');
    data.bindTable(routes.crmWebhook, 'products', 'read');
    data.bindTable(routes.crmWebhook, 'orders', 'write');
    // The CRM event's answer is remembered (crm-deals.ts); the order itself is the intake's only record.
    data.bindTable(routes.crmWebhook, 'idempotency', 'readwrite');
    events.grantPublish(routes.crmWebhook);
    workflow.grantStart(routes.crmWebhook);
    // Order entries (rep, import) are completed from the customer's record and the price list.
    data.bindTable(routes.enterOrder, 'customers', 'read');
    data.bindTable(routes.enterOrder, 'products', 'read');
    workflow.grantStart(routes.enterOrder);
    // The KPI projection: facts and counters written once per fact; GET /kpis reads them.
    data.bindTable(recordKpi, 'kpis', 'write');
    data.bindTable(routes.getKpis, 'kpis', 'read');
    workflow.grantStart(routes.placeOrder);
    data.bindTable(routes.getOrder, 'orders', 'read');
    // The search only reads: the orders table and its indexes, no other table.
    data.bindTable(routes.listOrders, 'orders', 'read');
    data.bindTable(routes.listProducts, 'products', 'read');
    data.bindTable(routes.listProducts, 'stock', 'read');
    data.bindTable(routes.listCustomers, 'customers', 'read');

    // Finance: invoices, credit notes (refunds, PDFs, e-mails), payments on account, the overdue sweep.
    data.bindTable(routes.getInvoice, 'invoices', 'read');
    documents.grantReadDocuments(routes.getInvoice);
    data.bindTable(routes.listInvoices, 'invoices', 'read');
    for (const f of [routes.issueCreditNote, routes.recordPayment]) {
      data.bindTable(f, 'invoices', 'write');
      data.bindTable(f, 'customers', 'write');
      email.grantSend(f);
    }
    documents.grantWriteCreditNotes(routes.issueCreditNote);
    const markOverdue = fn('MarkOverdue', 'mark-overdue', 'Marks open invoices past their due date overdue');
    data.bindTable(markOverdue, 'invoices', 'write');
    new Rule(this, 'OverdueInvoicesSweep', {
      description: 'Hourly: open invoices past their due date become overdue',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [events.lambdaTarget(markOverdue, 2)],
    });

    // Credit-note requests left half-way (a refund that timed out, a number past the HTTP answer).
    const finishCreditNotes = fn(
      'FinishCreditNotes',
      'finish-credit-notes',
      'Finishes credit-note requests left unfinished (refund, number, PDF, e-mail) and publishes payments left unpublished',
      { timeout: Duration.minutes(2), memorySize: 1024, files: FONT_BUNDLE_FILES },
    );
    data.bindTable(finishCreditNotes, 'invoices', 'write');
    email.grantSend(finishCreditNotes);
    documents.grantWriteCreditNotes(finishCreditNotes);
    // A numbered credit note and a recorded payment are published (OrderCreditNoteIssued,
    // OrderPaymentReceived) with the order's envelope: the order is read, the bus written.
    for (const f of [routes.issueCreditNote, routes.recordPayment, finishCreditNotes]) {
      data.bindTable(f, 'orders', 'read');
      events.grantPublish(f);
    }
    new Rule(this, 'UnfinishedCreditNotesSweep', {
      description:
        'Every 5 minutes: credit-note requests left half-way are finished, payments left unpublished published',
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [events.lambdaTarget(finishCreditNotes, 2)],
    });

    // Orders by e-mail: SES stores the message and invokes InboundEmail, which captures it like every
    // channel (lib/order-entry.ts) and replies to the sender once (replies remembered in the idempotency table).
    const inboundEmail = fn('InboundEmail', 'inbound-email', 'Order inbox: reads e-mailed orders and replies', {
      timeout: Duration.seconds(30),
    });
    const inbox = new OrderInbox(this, 'Inbox', {
      recipient:
        props.orderInbox ?? (this.node.tryGetContext('orderInbox') as string | undefined) ?? 'orders@example.com',
      handler: inboundEmail,
      accessLogs: documents.accessLogs,
      removalPolicy: props.removalPolicy,
    });
    data.bindTable(inboundEmail, 'orders', 'write');
    // The replies' send-once records (adapters/reply-ledger.ts).
    data.bindTable(inboundEmail, 'idempotency', 'readwrite');
    data.bindTable(inboundEmail, 'customers', 'read');
    data.bindTable(inboundEmail, 'products', 'read');
    events.grantPublish(inboundEmail);
    workflow.grantStart(inboundEmail);
    email.grantSend(inboundEmail);

    // Customer satisfaction: OrderDelivered -> one survey e-mail with a signed link per score; the link's
    // page (GET) records nothing, its button POSTs the answer, recorded once and published as FeedbackReceived.
    const feedback = new CustomerFeedback(this, 'Feedback');
    const requestFeedback = fn(
      'RequestFeedback',
      'request-feedback',
      'E-mails the customer the satisfaction survey once the order is delivered',
    );
    events.addConsumer('FeedbackRule', {
      description: 'Delivered orders to the customer satisfaction survey e-mail',
      detailTypes: ['OrderDelivered'],
      target: requestFeedback,
    });
    data.bindTable(requestFeedback, 'orders', 'write');
    data.bindTable(requestFeedback, 'customers', 'read');
    email.grantSend(requestFeedback);
    requestFeedback.addEnvironment('PUBLIC_API_URL', publicApiUrl);
    // Both routes are public (the link's token is the authorization): the one order item, nothing more.
    // Either publishes an answer it finds stored but unpublished (its request failed half-way); the
    // reconciler's sweep publishes those nobody comes back for.
    data.bindItems(routes.feedbackForm, 'orders', ['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    data.bindItems(routes.recordFeedback, 'orders', ['dynamodb:UpdateItem']);
    for (const f of [routes.feedbackForm, routes.recordFeedback]) events.grantPublish(f);
    for (const f of [requestFeedback, routes.feedbackForm, routes.recordFeedback]) feedback.grantTokenSecret(f);

    data.grantDescribe(routes.health, 'orders');
    workflow.grantDescribe(routes.health);
    documents.grantDescribe(routes.health);
    events.grantDescribe(routes.health);
    email.grantAccountRead(routes.health);

    // `-c alertEmail=ops@example.com -c deliverySlaDays=5`
    const deliverySlaDays =
      props.deliverySlaDays ?? Number(this.node.tryGetContext('deliverySlaDays') ?? DEFAULT_DELIVERY_SLA_DAYS);
    reconciler.addEnvironment('DELIVERY_SLA_DAYS', String(deliverySlaDays));
    this.observability = new OrderObservability(this, 'Observability', {
      stateMachine: workflow.stateMachine,
      api: this.api.api,
      deadLetters: events.deadLetters,
      failedEmails: inbox.failed,
      alertEmail: props.alertEmail ?? (this.node.tryGetContext('alertEmail') as string | undefined),
      deliverySlaDays,
    });
    this.events = events;
    this.reconciler = reconciler;
    this.data = data;
    this.workflow = workflow;
  }
}

/**
 * `-c buyerClients=acme-edi=CUST-2001,globex-portal=CUST-2002`: one customer-bound app client per
 * entry. The default is the demo buyer client of the local runtime, bound to CUST-1002.
 */
export function buyerClientsFrom(value: unknown = 'buyer=CUST-1002'): Record<string, string> {
  const entries = String(value)
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^([A-Za-z0-9_-]{1,64})=([A-Za-z0-9_-]{1,64})$/.exec(entry);
      if (!match) throw new Error(`buyerClients: expected <client name>=<customer id>, got "${entry}"`);
      return [match[1] as string, match[2] as string] as const;
    });
  return Object.fromEntries(entries);
}
