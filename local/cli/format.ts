import type * as z from 'zod/mini';
import type { KpisAnswer } from '../../functions/core/kpi-query.ts';
import { formatMoney } from '../../functions/core/money.ts';
import type { RowFailure } from '../../functions/core/order-import.ts';
import { type PricedLine, TERMINAL_STATUSES } from '../../functions/core/schemas.ts';
import type { orderView } from '../../functions/lib/order-views.ts';

/** What the order CLI prints: an order as GET /orders/{orderId} answers it, an import's report. */
export type OrderView = ReturnType<typeof orderView>;

export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** The one line `create` keeps rewriting while it follows an order: its status and latest event. */
export function statusLine(order: OrderView): string {
  const last = order.timeline.at(-1);
  return `Status: ${order.status}${last ? `  (last: ${last.type} at ${time(last.at)})` : ''}`;
}

/** How an order ended, with the reason when it did not complete. */
export function outcomeLine(order: OrderView): string {
  if (order.status === 'COMPLETED') return `Order ${order.orderId} COMPLETED`;
  const reason = order.failure ? `: ${order.failure.code}: ${order.failure.message}` : '';
  return `Order ${order.orderId} ${order.status}${reason}`;
}

const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

function table(rows: string[][], indent = '  '): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), []);
  return rows.map((row) =>
    `${indent}${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd(),
  );
}

/** `show`: the order, its lines, totals, shipments, invoices and timeline, readable. */
export function formatOrder(order: OrderView): string {
  const money = (amount: number) => formatMoney(amount, order.currency);
  const payment = `${order.payment.method}${'status' in order.payment && order.payment.status ? ` (${order.payment.status})` : ''}`;
  const out = [
    `Order ${order.orderId}  ${order.status}`,
    ...table([
      ['Customer', order.customerId],
      ['Channel', `${order.channel}${order.externalReference ? ` (reference ${order.externalReference})` : ''}`],
      ...(order.placedBy
        ? [['Placed by', [order.placedBy.kind, order.placedBy.id ?? order.placedBy.role].filter(Boolean).join(':')]]
        : []),
      ['Payment', payment],
      ['Fulfilment', order.fulfilmentPolicy],
      ['Created', time(order.createdAt)],
      ['Updated', time(order.updatedAt)],
    ]),
  ];
  if (order.failure) out.push(`  Reason      ${order.failure.code}: ${order.failure.message}`);
  if (order.cancellation) out.push(`  Cancelled   ${order.cancellation.reason}`);

  out.push('', 'Lines');
  // Before validation the lines are as requested: no names, discounts or nets yet.
  const priced = (order.lines as Partial<PricedLine>[]).map((line) => [
    line.sku ?? '',
    line.name ?? '',
    String(line.quantity ?? ''),
    line.unitPrice !== undefined ? money(line.unitPrice) : '',
    line.lineDiscount !== undefined ? money(line.lineDiscount) : '',
    line.lineSubtotal !== undefined ? money(line.lineSubtotal) : '',
  ]);
  out.push(...table([['SKU', 'Name', 'Qty', 'Unit price', 'Discount', 'Net'], ...priced]));
  if (order.totals) {
    const { subtotal, discount, tax, total } = order.totals;
    out.push(
      '',
      'Totals',
      ...table([
        ['Net', money(subtotal)],
        ...(discount > 0 ? [['Discount', money(discount)]] : []),
        ['Tax', `${money(tax)}${order.taxTreatment ? ` (${order.taxTreatment})` : ''}`],
        ['Total', money(total)],
      ]),
    );
  } else {
    out.push('', 'Totals      not priced yet');
  }

  out.push('', 'Shipments');
  if (order.shipments.length === 0) out.push('  none yet');
  else
    out.push(
      ...table(
        order.shipments.map((s) => [
          s.shipmentId,
          s.warehouseId,
          s.status,
          s.trackingNumber ? `tracking ${s.trackingNumber}` : '',
          s.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', '),
        ]),
      ),
    );
  if (order.backorder) {
    out.push(
      `  backordered: ${order.backorder.lines.map((l) => `${l.quantity} x ${l.sku}`).join(', ')} (until ${time(order.backorder.expiresAt)})`,
    );
  }

  out.push('', 'Invoices');
  if (order.invoices.length === 0) out.push('  none yet');
  else out.push(...table(order.invoices.map((i) => [i.number, `shipment ${i.shipmentId}`, money(i.total)])));

  out.push('', 'Timeline');
  out.push(
    ...table(
      order.timeline.map((entry) => [
        time(entry.at),
        entry.type,
        [entry.by ? `by ${entry.by}` : '', entry.reason ?? '', entry.comment ? `"${entry.comment}"` : '']
          .filter(Boolean)
          .join('  '),
      ]),
    ),
  );
  return out.join('\n');
}

/** `[##########..........]  12/20 orders` */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} orders`;
}

/** One row of an import file: its order id, why it was not imported, unknown, or (dry run) that it would be sent. */
export type RowReport = { row: number; reference?: string } & (
  | { outcome: 'imported'; orderId: string }
  | { outcome: 'refused'; reasons: string[] }
  | { outcome: 'unknown'; reason: string }
  | { outcome: 'planned' }
);

export const UNKNOWN_ROW = 'unknown — run the file again (the same reference is the same order)';

/** One line per row of the file: its order id, or why it was not imported. */
export function reportLines(rows: RowReport[]): string[] {
  const sorted = [...rows].sort((a, b) => a.row - b.row);
  return table(
    sorted.map((r) => [
      `row ${r.row}`,
      r.reference ?? '-',
      r.outcome === 'imported'
        ? r.orderId
        : r.outcome === 'refused'
          ? `not imported: ${r.reasons.join('; ')}`
          : r.outcome === 'unknown'
            ? `${UNKNOWN_ROW}; last attempt: ${r.reason}`
            : '(would be imported)',
    ]),
    '',
  );
}

export const failureReports = (failures: RowFailure[]): RowReport[] =>
  failures.map(({ row, reference, reasons }) => ({
    row,
    ...(reference ? { reference } : {}),
    outcome: 'refused',
    reasons,
  }));

/** GET /kpis as npm run kpis prints it: counts, money per currency, rates as percentages, seconds. */
export function kpiReport(kpis: z.infer<typeof KpisAnswer>): string[] {
  const percent = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)} %`);
  const secs = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(1)} s`);
  const row = (label: string, value: string | number) => `  ${label.padEnd(24)} ${value}`;
  const tally = (counts: Record<string, number>) =>
    Object.entries(counts).length === 0
      ? 'none'
      : Object.entries(counts)
          .map(([key, n]) => `${key} ${n}`)
          .join(', ');
  const money = (amounts: Record<string, number>) =>
    Object.entries(amounts).length === 0
      ? 'none'
      : Object.entries(amounts)
          .map(([code, amount]) => formatMoney(amount, code))
          .join(', ');
  return [
    `KPIs of the orders placed ${kpis.from} to ${kpis.to} (UTC)${kpis.currency ? `, money in ${kpis.currency}` : ''}`,
    'Orders',
    row('placed', kpis.ordersPlaced),
    row('completed', kpis.ordersCompleted),
    row('rejected', `${kpis.ordersRejected} (${tally(kpis.rejectionsByReason)})`),
    row('failed', `${kpis.ordersFailed} (${tally(kpis.failuresByReason)})`),
    row('cancelled', kpis.ordersCancelled),
    row('in flight', kpis.ordersInFlight),
    'Money',
    row('revenue', money(kpis.revenue)),
    row('average order value', money(kpis.averageOrderValue)),
    'Service',
    row('fulfilment rate', percent(kpis.fulfilmentRate)),
    row('on-time delivery rate', percent(kpis.onTimeDeliveryRate)),
    row('backorder rate', percent(kpis.backorderRate)),
    row('cycle time p50 / p90', `${secs(kpis.cycleTimeSeconds.p50)} / ${secs(kpis.cycleTimeSeconds.p90)}`),
    'Stage latency (p50, since the stage before)',
    ...Object.entries(kpis.stageLatencySeconds).map(([stage, value]) => row(stage, secs(value))),
    'Satisfaction',
    row(
      'NPS',
      kpis.nps.score === null
        ? 'n/a (no answers)'
        : `${kpis.nps.score} (${kpis.nps.promoters} promoters, ${kpis.nps.passives} passives, ${kpis.nps.detractors} detractors)`,
    ),
  ];
}
