import { api, searchAll, sentEmails, states } from './api.js';
import { cycleChart, cycleTimes, ordersPerDay, perDayChart } from './charts.js';
import { dateTime, duration, h, money, percent, show, showError } from './dom.js';
import { stateStatuses, stateTree } from './workflow.js';

const $ = (selector) => document.querySelector(selector);
const isoDay = (msAgo = 0) => new Date(Date.now() - msAgo).toISOString().slice(0, 10);
const windowOf = () => ({ from: $('#from').value, to: $('#to').value });
const num = (value) => h('td', { class: 'num' }, value);
const table = (headers, rows) =>
  h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', {}, t)),
      ),
    ),
    h('tbody', {}, rows),
  );

/** Loads one panel; a failure shows in that panel only. */
async function panel(id, load) {
  const target = $(`#${id} .body`);
  try {
    await load(target);
  } catch (error) {
    showError(target, error);
  }
}

// --- KPIs (GET /kpis) --------------------------------------------------------------------------

const tile = (key, label, value) =>
  h(
    'div',
    { class: 'tile', 'data-kpi': key },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
  );
const reasons = (title, counts) =>
  Object.keys(counts).length === 0
    ? null
    : h(
        'p',
        {},
        `${title}: `,
        Object.entries(counts)
          .map(([reason, n]) => `${reason} ${n}`)
          .join(', '),
      );

async function loadKpis(target) {
  const kpis = await api(`/kpis?${new URLSearchParams(windowOf())}`).catch((error) => {
    if (error.status === 404) return undefined;
    throw error;
  });
  if (!kpis) return show(target, h('p', { class: 'hint' }, 'This API has no GET /kpis.'));
  const counts = ['Placed', 'Completed', 'Rejected', 'Cancelled', 'Failed', 'InFlight'];
  show(
    target,
    h(
      'div',
      { class: 'tiles' },
      counts.map((c) => tile(`orders${c}`, c.replace('InFlight', 'in flight').toLowerCase(), kpis[`orders${c}`])),
      Object.entries(kpis.revenue).map(([c, v]) => tile(`revenue.${c}`, `revenue ${c}`, money(v, c))),
      Object.entries(kpis.averageOrderValue).map(([c, v]) =>
        tile(`averageOrderValue.${c}`, `avg order ${c}`, money(v, c)),
      ),
      tile('cycleTimeSeconds.p50', 'cycle time p50', duration(kpis.cycleTimeSeconds.p50)),
      tile('cycleTimeSeconds.p90', 'cycle time p90', duration(kpis.cycleTimeSeconds.p90)),
      tile('fulfilmentRate', 'fulfilment', percent(kpis.fulfilmentRate)),
      tile('onTimeDeliveryRate', 'on time', percent(kpis.onTimeDeliveryRate)),
      tile('backorderRate', 'backordered', percent(kpis.backorderRate)),
      tile('nps', `NPS (${kpis.nps.responses} answers)`, kpis.nps.score ?? '–'),
    ),
    reasons('Rejections', kpis.rejectionsByReason),
    reasons('Failures', kpis.failuresByReason),
    reasons(
      'Stage latency p50',
      Object.fromEntries(Object.entries(kpis.stageLatencySeconds).map(([stage, s]) => [stage, duration(s)])),
    ),
  );
}

// --- Charts (GET /orders over the window) -------------------------------------------------------

async function loadCharts() {
  const { from, to } = windowOf();
  try {
    const { orders, truncated } = await searchAll({ from, to });
    const note = truncated ? h('p', { class: 'hint' }, `The first ${orders.length} orders of the window.`) : null;
    show($('#per-day .body'), perDayChart(ordersPerDay(orders, from, to)), note);
    show($('#cycle .body'), cycleChart(cycleTimes(orders)), note);
  } catch (error) {
    showError($('#per-day .body'), error);
    showError($('#cycle .body'), error);
  }
}

// --- Orders (GET /orders) -----------------------------------------------------------------------

let nextCursor;

async function loadOrders(target, more = false) {
  const status = $('#status').value;
  const query = { ...windowOf(), limit: '25', ...(status ? { status } : {}), ...(more ? { cursor: nextCursor } : {}) };
  const answer = await api(`/orders?${new URLSearchParams(query)}`);
  nextCursor = answer.nextCursor;
  $('#more').hidden = !nextCursor;
  const rows = answer.orders.map((o) =>
    h(
      'tr',
      { 'data-order-id': o.orderId, 'data-status': o.status, onclick: () => openOrder(o.orderId) },
      h('td', {}, o.orderId),
      h('td', {}, o.status),
      h('td', {}, o.customerId),
      h('td', {}, o.channel),
      num(money(o.total, o.currency)),
      h('td', {}, dateTime(o.createdAt)),
    ),
  );
  if (more) target.querySelector('tbody').append(...rows);
  else if (rows.length === 0) show(target, h('p', { class: 'hint' }, 'No orders in the window.'));
  else show(target, table(['order', 'status', 'customer', 'channel', 'total', 'placed (UTC)'], rows));
}

/** The status filter offers what the API's own description lists. */
async function loadStatuses() {
  const doc = await fetch('/openapi.json').then((r) => r.json());
  const parameter = doc.paths?.['/orders']?.get?.parameters?.find((p) => p.name === 'status');
  for (const status of parameter?.schema?.enum ?? []) $('#status').append(h('option', { value: status }, status));
}

// --- One order: timeline (GET /orders/{id}) and its execution's path (Step Functions) -------------

let selected;
const definitions = new Map();

async function definitionOf(stateMachineArn) {
  if (!definitions.has(stateMachineArn)) {
    const { definition } = await states('DescribeStateMachine', { stateMachineArn });
    definitions.set(stateMachineArn, stateTree(JSON.parse(definition)));
  }
  return definitions.get(stateMachineArn);
}

async function executionPath(orderId) {
  // The execution is named after the order, in the order workflow's state machine.
  const { stateMachines } = await states('ListStateMachines', {});
  const machine = stateMachines.find((m) => m.name.endsWith('order-workflow'));
  if (!machine) throw new Error('No order workflow on the local Step Functions');
  const executionArn = `${machine.stateMachineArn.replace(':stateMachine:', ':execution:')}:${orderId}`;
  const execution = await states('DescribeExecution', { executionArn });
  const tree = await definitionOf(execution.stateMachineArn);
  const events = [];
  let nextToken;
  do {
    const page = await states('GetExecutionHistory', {
      executionArn,
      maxResults: 1000,
      includeExecutionData: false,
      ...(nextToken ? { nextToken } : {}),
    });
    events.push(...page.events);
    nextToken = page.nextToken;
  } while (nextToken);
  const statuses = stateStatuses(events);
  const list = (nodes) =>
    h(
      'ol',
      { class: 'states' },
      nodes.map((node) => {
        const status = statuses.get(node.name) ?? 'not-visited';
        return h(
          'li',
          { 'data-state': node.name, 'data-status': status },
          h('span', { class: 'chip', 'data-status': status, title: `${node.type}: ${status}` }, node.name),
          node.children.length > 0 ? list(node.children) : null,
        );
      }),
    );
  const failure = execution.error ? ` (${execution.error}${execution.cause ? `: ${execution.cause}` : ''})` : '';
  return [
    h('p', {}, 'Execution ', h('strong', { id: 'execution-status' }, execution.status), failure),
    h(
      'p',
      {},
      ['succeeded', 'running', 'caught', 'failed', 'not-visited'].map((s) =>
        h('span', { class: 'chip', 'data-status': s }, s),
      ),
    ),
    list(tree),
  ];
}

const extra = (entry) =>
  Object.entries(entry)
    .filter(([key]) => !['at', 'type', 'by'].includes(key))
    .map(([key, value]) => `${key}: ${typeof value === 'object' ? JSON.stringify(value) : value}`)
    .join(', ');

function summary(order) {
  const facts = [
    ['status', order.status],
    ['customer', order.customerId],
    ['channel', order.channel],
    ['placed by', order.placedBy ? `${order.placedBy.kind}:${order.placedBy.id ?? order.placedBy.role}` : '–'],
    ['total', money(order.totals?.total, order.currency)],
    ['payment', order.payment ? `${order.payment.method} ${order.payment.status ?? ''}` : '–'],
    ['reference', order.externalReference ?? '–'],
  ];
  return h(
    'table',
    { class: 'facts' },
    facts.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { 'data-fact': k }, v))),
  );
}

async function openOrder(orderId) {
  selected = orderId;
  for (const row of document.querySelectorAll('tr[data-order-id]'))
    row.classList.toggle('selected', row.dataset.orderId === orderId);
  $('#order-id').textContent = orderId;
  await panel('order', async (target) => {
    const order = await api(`/orders/${encodeURIComponent(orderId)}`);
    const path = await executionPath(orderId).catch((error) => h('p', { class: 'error' }, error.message));
    const timeline = table(
      ['at (UTC)', 'stage', 'by', ''],
      order.timeline.map((e) =>
        h(
          'tr',
          { 'data-event': e.type },
          h('td', {}, dateTime(e.at)),
          h('td', {}, e.type),
          h('td', {}, e.by ?? ''),
          h('td', {}, extra(e)),
        ),
      ),
    );
    show(
      target,
      summary(order),
      h(
        'div',
        { class: 'detail' },
        h('div', { id: 'timeline' }, h('h3', {}, 'Timeline'), timeline),
        h('div', { id: 'path' }, h('h3', {}, 'Workflow'), path),
      ),
    );
  });
}

// --- Stock (GET /products) and e-mails (local SES) ----------------------------------------------

async function loadStock(target) {
  const products = await api('/products');
  const rows = products.flatMap((p) =>
    p.warehouses.map((w) =>
      h(
        'tr',
        { 'data-sku': p.sku, 'data-warehouse': w.warehouseId },
        h('td', {}, p.sku),
        h('td', {}, p.name),
        h('td', {}, w.warehouseId),
        num(w.onHand),
        num(w.reserved),
        num(w.available),
      ),
    ),
  );
  show(target, table(['SKU', 'product', 'warehouse', 'on hand', 'reserved', 'available'], rows));
}

async function loadEmails(target) {
  const emails = (await sentEmails()).slice(-15).reverse();
  if (emails.length === 0) return show(target, h('p', { class: 'hint' }, 'No e-mails sent yet.'));
  const rows = emails.map((e) =>
    h(
      'tr',
      { 'data-message-id': e.messageId },
      h('td', {}, dateTime(e.at * 1000)),
      h('td', {}, e.destination.to.join(', ')),
      h('td', {}, e.subject),
      h('td', {}, (e.attachments ?? []).map((a) => a.filename ?? a.contentType).join(', ')),
    ),
  );
  show(target, table(['sent (UTC)', 'to', 'subject', 'attachments'], rows));
}

// --- Wiring -------------------------------------------------------------------------------------

function refresh() {
  panel('kpis', loadKpis);
  loadCharts();
  panel('orders', loadOrders);
  panel('stock', loadStock);
  panel('emails', loadEmails);
  if (selected) openOrder(selected);
}

$('#from').value = isoDay(6 * 86_400_000);
$('#to').value = isoDay();
$('#who').textContent = 'as the ops demo client';
$('#window').addEventListener('submit', (event) => {
  event.preventDefault();
  refresh();
});
$('#refresh').addEventListener('click', refresh);
$('#status').addEventListener('change', () => panel('orders', loadOrders));
$('#more').addEventListener('click', () => panel('orders', (target) => loadOrders(target, true)));
loadStatuses().catch((error) => showError($('#orders .body'), error));
refresh();
