import type { Principal, PrincipalView } from './schemas.ts';

/**
 * Who may call what: the single source of roles, scopes and route requirements. The CDK
 * (resource server, app clients, groups, route AuthorizationScopes), the pre-token-generation
 * trigger, the local issuer and the handlers all read it from here.
 */

/** The Cognito resource server identifier: scopes appear in tokens as `sales/<name>`. */
export const RESOURCE_SERVER = 'sales';

export const SCOPE_NAMES = {
  'orders.place': 'Place orders',
  'orders.read': 'Read orders',
  'orders.search': 'List and search orders (a customer-bound client: its own customer only)',
  'orders.on-account': 'Place orders billed on account (credit) to the customer',
  'orders.cancel': 'Cancel orders (a customer-bound client: its own customer only)',
  'orders.enter':
    "Enter orders for any customer, resolved against the customer's record (a rep's direct entry, bulk import)",
  'catalog.read': 'Read the catalog with stock levels',
  'stock.write': 'Set stock on hand (warehouse/ERP sync)',
  'stock.adjust': 'Record stock receipts and write-offs',
  'customers.read': 'Read customers, including names and e-mail addresses',
  'invoices.read': 'Read invoices',
  'payments.write': 'Record payments against invoices',
  'credit-notes.write': 'Issue credit notes (and the refunds they make)',
  'kpis.read': 'Read KPIs',
  'operations.write': 'Operational actions on orders',
  'approvals.write': 'Decide order approvals',
} as const;
export type ScopeName = keyof typeof SCOPE_NAMES;
export const scope = (name: ScopeName): string => `${RESOURCE_SERVER}/${name}`;

export type RoleName = 'checkout' | 'buyer' | 'erp' | 'rep' | 'ops' | 'finance' | 'approver';

export interface Role {
  /** machine: an app client with the client-credentials grant; person: a user-pool group. */
  kind: 'machine' | 'person';
  description: string;
  scopes: ScopeName[];
  /** A machine role whose clients act for one customer only (the `customer_id` claim). */
  customerBound?: boolean;
}

export const ROLES: Record<RoleName, Role> = {
  checkout: {
    kind: 'machine',
    description: 'Web checkout backend',
    scopes: ['orders.place', 'orders.read', 'catalog.read'],
  },
  buyer: {
    kind: 'machine',
    description: "A customer's own buyer client (B2B portal, EDI)",
    scopes: ['orders.place', 'orders.read', 'orders.search', 'orders.on-account', 'orders.cancel', 'catalog.read'],
    customerBound: true,
  },
  erp: {
    kind: 'machine',
    description: 'ERP / warehouse system',
    scopes: ['stock.write', 'stock.adjust', 'catalog.read'],
  },
  rep: {
    kind: 'person',
    description: 'Sales rep',
    scopes: [
      'orders.place',
      'orders.enter',
      'orders.read',
      'orders.search',
      'orders.on-account',
      'orders.cancel',
      'customers.read',
      'catalog.read',
    ],
  },
  ops: {
    kind: 'person',
    description: 'Operations',
    scopes: [
      'orders.read',
      'orders.search',
      'orders.cancel',
      'customers.read',
      'catalog.read',
      'invoices.read',
      'kpis.read',
      'operations.write',
      'stock.adjust',
    ],
  },
  finance: {
    kind: 'person',
    description: 'Finance',
    scopes: ['invoices.read', 'payments.write', 'credit-notes.write', 'kpis.read'],
  },
  approver: { kind: 'person', description: 'Approves orders', scopes: ['approvals.write'] },
};

export const roleScopes = (role: RoleName): string[] => ROLES[role].scopes.map(scope);
export const PERSON_ROLES = (Object.keys(ROLES) as RoleName[]).filter((r) => ROLES[r].kind === 'person');
export const MACHINE_ROLES = (Object.keys(ROLES) as RoleName[]).filter((r) => ROLES[r].kind === 'machine');

/**
 * The scopes each route needs (any one of them, as API Gateway checks), or `public` for the
 * routes without a token: the health check, the API description, HMAC-signed webhooks and the
 * survey links (signed tokens).
 */
export const ROUTE_ACCESS: Record<string, ScopeName[] | 'public'> = {
  'POST /orders': ['orders.place'],
  'GET /orders': ['orders.search'],
  'GET /orders/{orderId}': ['orders.read'],
  'POST /orders/{orderId}/cancel': ['orders.cancel'],
  'POST /order-entries': ['orders.enter'],
  'GET /products': ['catalog.read'],
  'PUT /products/{sku}/stock': ['stock.write'],
  'POST /products/{sku}/stock/adjustments': ['stock.adjust'],
  'GET /customers': ['customers.read'],
  'GET /invoices': ['invoices.read'],
  'GET /invoices/{number}': ['invoices.read'],
  'GET /invoices/{number}/pdf': ['invoices.read'],
  'POST /invoices/{number}/credit-notes': ['credit-notes.write'],
  'POST /invoices/{number}/payments': ['payments.write'],
  'GET /credit-notes/{number}': ['invoices.read'],
  'GET /credit-notes/{number}/pdf': ['invoices.read'],
  'GET /kpis': ['kpis.read'],
  'POST /approvals/{approvalId}': ['approvals.write'],
  'POST /webhooks/carrier': 'public',
  'POST /webhooks/crm': 'public',
  // The survey of an e-mailed link: its signed token is the authorization (core/feedback.ts).
  'GET /feedback/{token}': 'public',
  'POST /feedback/{token}': 'public',
  'GET /health': 'public',
  'GET /openapi.json': 'public',
};

export function routeScopes(routeKey: string): string[] | 'public' {
  const access = ROUTE_ACCESS[routeKey];
  if (access === undefined) throw new Error(`No access rule for route ${routeKey}`);
  return access === 'public' ? access : access.map(scope);
}

/** The claim a customer-bound client's access token carries its customer id in. */
export const CUSTOMER_CLAIM = 'customer_id';

/**
 * How a customer-bound app client is tied to its customer: it is allowed one scope
 * `sales/customer.<customerId>` on the resource server, and the pre-token-generation trigger
 * turns that scope into the `customer_id` claim.
 */
export const CUSTOMER_SCOPE_PREFIX = 'customer.';
export const customerScopeName = (customerId: string): string => `${CUSTOMER_SCOPE_PREFIX}${customerId}`;

export function customerFromScopes(scopes: string[]): string | undefined {
  const prefix = `${RESOURCE_SERVER}/${CUSTOMER_SCOPE_PREFIX}`;
  const bound = [...new Set(scopes.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length)))];
  if (bound.length > 1) throw new Error('A client may be bound to one customer only');
  return bound[0];
}

/** The scopes a person gets from their groups (unknown groups grant nothing). */
export function scopesForGroups(groups: string[]): string[] {
  const granted = new Set<string>();
  for (const group of groups) {
    if ((PERSON_ROLES as string[]).includes(group)) for (const s of roleScopes(group as RoleName)) granted.add(s);
  }
  return [...granted].sort();
}

export const principalLabel = (principal: PrincipalView): string =>
  principal.id !== undefined
    ? `${principal.kind}:${principal.id}`
    : `${principal.kind}${principal.role ? ` (${principal.role})` : ''}`;

/** Who sees whom: staff see every principal's id; machine clients see people by kind and role only. */
export type Viewer = 'staff' | 'client';

export function principalFor(principal: Principal, viewer: Viewer): PrincipalView {
  if (viewer === 'staff' || principal.kind === 'client') return principal;
  return { kind: principal.kind, ...(principal.role ? { role: principal.role } : {}) };
}
