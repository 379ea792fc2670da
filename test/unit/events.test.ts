import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES } from '../../functions/core/event-catalog.ts';
import { isOrderEvent, ORDER_EVENTS, STAGE_NAMES, UNPUBLISHED_STAGES } from '../../functions/core/events.ts';
import { KPI_EVENT_TYPES } from '../../functions/core/kpi-projection.ts';

const FUNCTIONS = fileURLToPath(new URL('../../functions', import.meta.url));
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

describe('order events', () => {
  it('are named Order<PastTense> (or FeedbackReceived) once each; stages that are never published are apart', () => {
    for (const name of ORDER_EVENTS) expect(name).toMatch(/^(Order|Feedback)[A-Z][A-Za-z]+$/);
    expect(new Set(STAGE_NAMES).size).toBe(STAGE_NAMES.length);
    for (const name of UNPUBLISHED_STAGES) expect(isOrderEvent(name)).toBe(false);
    expect(isOrderEvent('OrderShipped')).toBe(true);
    expect(isOrderEvent('OrderReserved')).toBe(false);
  });

  it('feed the KPI rule only with cataloged names', () => {
    for (const name of KPI_EVENT_TYPES) expect(DETAIL_TYPES).toContain(name);
  });

  it('are the only stage names the code reads from an order', () => {
    // Writes are typed (recordStage takes a StageName); reads of `stages.X` are not, so they are checked here.
    const read = sources(FUNCTIONS).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bstages(?:\?)?\.([A-Z][A-Za-z]+)/g)].map((m) => m[1]),
    );
    expect(read.length).toBeGreaterThan(3);
    for (const name of read) expect(STAGE_NAMES).toContain(name);
  });
});
