import { Duration, type RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Construct } from 'constructs';
import { INVOICE_FONTS } from '../functions/adapters/invoice-fonts.ts';
import { OrderApi } from './constructs/api.ts';
import { CarrierIntegration } from './constructs/carrier.ts';
import { OrderData } from './constructs/data.ts';
import { OrderEmail } from './constructs/email.ts';
import { OrderEvents } from './constructs/events.ts';
import { OrderObservability } from './constructs/observability.ts';
import { OrderFunction } from './constructs/order-function.ts';
import { OrderDocuments } from './constructs/storage.ts';
import { OrderWorkflow } from './constructs/workflow.ts';

export interface OrderStackProps extends StackProps {
  senderEmail: string;
  financeEmail: string;
  /** RETAIN in production (default); DESTROY for throw-away stacks. */
  removalPolicy?: RemovalPolicy;
}

/** The sales order system: one stack, one construct per concern. */
export class OrderStack extends Stack {
  readonly data: OrderData;
  readonly workflow: OrderWorkflow;
  readonly api: OrderApi;

  constructor(scope: Construct, id: string, props: OrderStackProps) {
    super(scope, id, props);
    const data = new OrderData(this, 'Data', { removalPolicy: props.removalPolicy });
    const documents = new OrderDocuments(this, 'Documents', { removalPolicy: props.removalPolicy });
    const email = new OrderEmail(this, 'Email', { senderEmail: props.senderEmail, financeEmail: props.financeEmail });
    const carrier = new CarrierIntegration(this, 'Carrier');
    const fn = (
      id: string,
      stage: string,
      description: string,
      extra: { timeout?: Duration; memorySize?: number; files?: string[] } = {},
    ) => new OrderFunction(this, id, { stage, description, ...extra });

    const recordKpi = fn('RecordKpi', 'record-kpi', 'Turns order domain events into KPI metrics');
    const events = new OrderEvents(this, 'Events', { kpiConsumer: recordKpi });

    // Workflow tasks: the keys are the ASL's ${<Key>FunctionArn} placeholders.
    const tasks = {
      ValidateOrder: fn('ValidateOrder', 'validate-order', 'Checks customer, products, prices, tax and credit'),
      ReserveStock: fn('ReserveStock', 'reserve-stock', 'Reserves all order lines in one transaction'),
      AuthorizePayment: fn('AuthorizePayment', 'authorize-payment', 'Authorizes the card payment'),
      CreateShipment: fn('CreateShipment', 'create-shipment', 'Books the carrier and ships the held stock'),
      AwaitDelivery: fn('AwaitDelivery', 'await-delivery', 'Parks the task token until the carrier confirms delivery'),
      CapturePayment: fn('CapturePayment', 'capture-payment', 'Captures the authorized payment after delivery'),
      IssueInvoice: fn('IssueInvoice', 'issue-invoice', 'Numbers, renders, stores and e-mails the invoice', {
        timeout: Duration.seconds(60),
        memorySize: 1024,
        files: Object.values(INVOICE_FONTS),
      }),
      CompleteOrder: fn('CompleteOrder', 'complete-order', 'Marks the order completed'),
      VoidPayment: fn('VoidPayment', 'void-payment', 'Compensation: voids or refunds the payment'),
      ReleaseStock: fn('ReleaseStock', 'release-stock', 'Compensation: releases held stock'),
      CloseOrder: fn('CloseOrder', 'close-order', 'Ends an order REJECTED or FAILED with its reason'),
    };
    const workflow = new OrderWorkflow(this, 'Workflow', { tasks });

    const routes = {
      placeOrder: fn('PlaceOrder', 'place-order', 'POST /orders'),
      getOrder: fn('GetOrder', 'get-order', 'GET /orders/{orderId}'),
      listProducts: fn('ListProducts', 'list-products', 'GET /products'),
      setStock: fn('SetStock', 'set-stock', 'PUT /products/{sku}/stock'),
      listCustomers: fn('ListCustomers', 'list-customers', 'GET /customers'),
      carrierWebhook: fn('CarrierWebhook', 'carrier-webhook', 'POST /webhooks/carrier'),
      health: fn('Health', 'health', 'GET /health'),
      openApi: fn('OpenApi', 'openapi', 'GET /openapi.json'),
    };
    this.api = new OrderApi(this, 'Api', {
      routes: [
        { method: HttpMethod.POST, path: '/orders', fn: routes.placeOrder },
        { method: HttpMethod.GET, path: '/orders/{orderId}', fn: routes.getOrder },
        { method: HttpMethod.GET, path: '/products', fn: routes.listProducts },
        { method: HttpMethod.PUT, path: '/products/{sku}/stock', fn: routes.setStock },
        { method: HttpMethod.GET, path: '/customers', fn: routes.listCustomers },
        { method: HttpMethod.POST, path: '/webhooks/carrier', fn: routes.carrierWebhook },
        { method: HttpMethod.GET, path: '/health', fn: routes.health },
        { method: HttpMethod.GET, path: '/openapi.json', fn: routes.openApi },
      ],
    });

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
      routes.carrierWebhook,
      routes.placeOrder,
    ];
    for (const f of stageFunctions) {
      data.bindTable(f, 'orders', 'write');
      events.grantPublish(f);
    }
    // These delete: the reservation record on release, a just-written order whose workflow failed to start.
    data.bindTable(tasks.ReleaseStock, 'orders', 'readwrite');
    data.bindTable(routes.placeOrder, 'orders', 'readwrite');
    data.bindTable(tasks.ValidateOrder, 'customers', 'write');
    data.bindTable(tasks.CloseOrder, 'customers', 'write');
    data.bindTable(tasks.ValidateOrder, 'products', 'read');
    for (const f of [tasks.ReserveStock, tasks.CreateShipment, tasks.ReleaseStock])
      data.bindTable(f, 'products', 'write');
    data.bindTable(tasks.IssueInvoice, 'customers', 'write');
    data.bindTable(tasks.IssueInvoice, 'invoices', 'write');
    documents.grantWriteInvoices(tasks.IssueInvoice);
    email.grantSend(tasks.IssueInvoice);
    carrier.grantWebhookSecret(tasks.CreateShipment);
    carrier.grantWebhookSecret(routes.carrierWebhook);
    workflow.grantTaskResponse(tasks.AwaitDelivery);
    workflow.grantTaskResponse(routes.carrierWebhook);
    data.bindTable(tasks.AwaitDelivery, 'orders', 'write');

    data.bindTable(routes.placeOrder, 'idempotency', 'readwrite');
    data.bindTable(recordKpi, 'idempotency', 'readwrite');
    workflow.grantStart(routes.placeOrder);
    data.bindTable(routes.getOrder, 'orders', 'read');
    data.bindTable(routes.listProducts, 'products', 'read');
    data.bindTable(routes.setStock, 'products', 'write');
    data.bindTable(routes.listCustomers, 'customers', 'read');

    data.grantDescribe(routes.health, 'orders');
    workflow.grantDescribe(routes.health);
    documents.grantDescribe(routes.health);
    events.grantDescribe(routes.health);
    email.grantAccountRead(routes.health);

    new OrderObservability(this, 'Observability', { stateMachine: workflow.stateMachine });
    this.data = data;
    this.workflow = workflow;
  }
}
