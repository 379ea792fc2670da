/**
 * Rewrites the never-retry list (the first Retry entry, MaxAttempts 0) of every Task state in the ASL to
 * exactly the domain errors of core/errors.ts, sorted by name (stable). Names in that entry that are not
 * domain errors (e.g. States.HeartbeatTimeout) move to an entry of their own, still never retried.
 * Run: `npm run asl:never-retry` (it formats the file with Biome).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type AslState, domainErrorNames, taskStates } from './never-retry.ts';

const file = fileURLToPath(new URL('../../statemachines/order-workflow.asl.json', import.meta.url));
const definition = JSON.parse(readFileSync(file, 'utf8')) as { States: Record<string, AslState> };
const domain = domainErrorNames();

for (const [, state] of taskStates(definition.States)) {
  const retry = state.Retry ?? [];
  const first = retry[0];
  const neverRetried = first && first.MaxAttempts === 0 ? first : undefined;
  const others = (neverRetried?.ErrorEquals ?? []).filter((name) => !domain.includes(name));
  const rest = neverRetried ? retry.slice(1) : retry;
  state.Retry = [
    { ErrorEquals: [...domain], MaxAttempts: 0 },
    ...(others.length > 0 ? [{ ErrorEquals: others, MaxAttempts: 0 }] : []),
    ...rest,
  ];
}
writeFileSync(file, `${JSON.stringify(definition, null, 2)}\n`);
