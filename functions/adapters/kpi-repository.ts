import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { type StageTime, type StoredFacts, type Transition, WINDOW_ATTRIBUTES } from '../core/kpi-projection.ts';
import { backoff } from './backoff.ts';
import { documents } from './clients/dynamodb.ts';
import { retryingConflicts } from './conflicts.ts';

/** The sparse index of the facts items by placed day and shard (`dayShard`): the window's facts. */
export const KPI_DAY_INDEX = 'byPlacedDay';

/**
 * Tries of a write that lost a conflict: a transaction on a counter item (concurrent events of orders
 * placed the same day and shard), or a single write on facts that a concurrent event's transaction holds.
 * The SDK does not retry TransactionConflict, so we do, with full jitter.
 */
export const CONFLICT_ATTEMPTS = 10;
const CONFLICT_BACKOFF = { baseMs: 20, capMs: 1_000 };
/** Tries of a BatchGet whose keys DynamoDB left unprocessed (throttled). */
const UNPROCESSED_ATTEMPTS = 8;
const UNPROCESSED_BACKOFF = { baseMs: 50, capMs: 2_000 };

/** The facts of an order as the window's percentiles read them (the index projects these only). */
export type WindowFacts = Pick<StoredFacts, (typeof WINDOW_ATTRIBUTES)[number]>;

/** What an item already holds of an event's writes: the guards set and the events whose stage was recorded. */
export interface Known {
  guards: Set<string>;
  events: Set<string>;
}

/**
 * The KPI table (the projection's store; the rules are in core/kpi-projection.ts). Items are keyed by
 * `pk`: facts `ORDER#<orderId>`, counters `DAY#<day>#<shard>` and `NPS#<day>#<shard>`, survey answers
 * `FEEDBACK#<orderId>`.
 */
export class KpiRepository {
  constructor(private readonly tableName: string) {}

  /**
   * What the item already holds of these guards and its recorded events, in one consistent read: a
   * duplicate's transitions are skipped without a transaction, so it never contends for the counters.
   */
  async known(key: string, guards: readonly string[]): Promise<Known> {
    const names: Record<string, string> = { '#events': 'events' };
    guards.forEach((guard, index) => {
      names[`#g${index}`] = guard;
    });
    const { Item } = await documents().send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: key },
        ConsistentRead: true,
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: names,
      }),
    );
    const events = Item?.events;
    return {
      guards: new Set(guards.filter((guard) => Item?.[guard] !== undefined)),
      events: new Set(events instanceof Set ? [...events].map(String) : []),
    };
  }

  /**
   * Applies a transition: its guarded write (with the stage it carries) and its counters in one
   * transaction, retried while it loses a conflict to a concurrent one. False when the guard was already
   * set (a duplicate or a later copy of the same fact): nothing is written.
   */
  async apply(transition: Transition): Promise<boolean> {
    return retryingFactConflicts(() => this.applyOnce(transition));
  }

  private async applyOnce(transition: Transition): Promise<boolean> {
    const names: Record<string, string> = { '#guard': transition.guard };
    const values: Record<string, unknown> = {};
    const assignments = Object.entries(transition.set).map(([field, value], index) => {
      names[`#s${index}`] = field;
      values[`:s${index}`] = value;
      return `#s${index} = :s${index}`;
    });
    const { stage } = transition;
    if (stage) {
      // The event's stage with it: its time inside the map the placing makes, else at its own path; its event marked.
      if (!('stageTimes' in transition.set)) {
        Object.assign(names, { '#times': 'stageTimes', '#stage': stage.stage });
        values[':at'] = stage.at;
        assignments.push('#times.#stage = :at');
      }
      names['#events'] = 'events';
      values[':ids'] = new Set([stage.eventId]);
    }
    const facts = {
      TableName: this.tableName,
      Key: { pk: transition.key },
      UpdateExpression: `SET ${assignments.join(', ')}${stage ? ' ADD #events :ids' : ''}`,
      ConditionExpression: 'attribute_not_exists(#guard)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    try {
      if (!transition.counter) {
        await documents().send(new UpdateCommand(facts));
        return true;
      }
      const counterNames: Record<string, string> = {};
      const counterValues: Record<string, unknown> = {};
      const additions = Object.entries(transition.counter.add).map(([field, value], index) => {
        counterNames[`#c${index}`] = field;
        counterValues[`:c${index}`] = value;
        return `#c${index} :c${index}`;
      });
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            { Update: facts },
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: transition.counter.key },
                UpdateExpression: `ADD ${additions.join(', ')}`,
                ExpressionAttributeNames: counterNames,
                ExpressionAttributeValues: counterValues,
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (isGuardSet(error)) return false;
      throw error;
    }
  }

  /**
   * The one write that records a new fact of a stage on existing facts when its time is the stage's
   * earliest so far: the time set and the event marked together. False when refused (no facts yet, a
   * known event, or an earlier time stored): nothing was written.
   */
  async recordEarliestStage(stage: StageTime): Promise<boolean> {
    try {
      await write({
        TableName: this.tableName,
        Key: { pk: stage.key },
        UpdateExpression: 'SET #times.#stage = :at ADD #events :ids',
        ConditionExpression:
          'attribute_exists(pk) AND NOT contains(#events, :id) AND (attribute_not_exists(#times.#stage) OR #times.#stage > :at)',
        ExpressionAttributeNames: { '#times': 'stageTimes', '#stage': stage.stage, '#events': 'events' },
        ExpressionAttributeValues: { ':at': stage.at, ':ids': new Set([stage.eventId]), ':id': stage.eventId },
      });
      return true;
    } catch (error) {
      if (isGuardSet(error)) return false;
      throw error;
    }
  }

  /**
   * Records a fact's stage time on the facts (kept when earlier than the stored one) and marks its event
   * recorded. True the first time for this event (emit its metrics), false for a known one. Usually one
   * write does both (recordEarliestStage). When that write is refused (the event is known, or the stage
   * has an earlier time), the two steps apart: the time first, so a retry after a failure in between
   * finds the event unmarked and does both again. `combined: false` goes to the two steps at once (the
   * caller saw the one write refused on made facts: it would be refused again, and a refused write is billed).
   */
  async recordStage(stage: StageTime, { combined = true } = {}): Promise<boolean> {
    if (combined && (await this.recordEarliestStage(stage))) return true;
    try {
      await write({
        TableName: this.tableName,
        Key: { pk: stage.key },
        UpdateExpression: 'SET #times.#stage = :at',
        // The facts exist (the event's first transition created them) and no earlier time is known.
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#times.#stage) OR #times.#stage > :at)',
        ExpressionAttributeNames: { '#times': 'stageTimes', '#stage': stage.stage },
        ExpressionAttributeValues: { ':at': stage.at },
      });
    } catch (error) {
      if (!isGuardSet(error)) throw error;
    }
    try {
      await write({
        TableName: this.tableName,
        Key: { pk: stage.key },
        UpdateExpression: 'ADD #events :ids',
        ConditionExpression: 'attribute_exists(pk) AND NOT contains(#events, :id)',
        ExpressionAttributeNames: { '#events': 'events' },
        ExpressionAttributeValues: { ':ids': new Set([stage.eventId]), ':id': stage.eventId },
      });
      return true;
    } catch (error) {
      if (isGuardSet(error)) return false;
      throw error;
    }
  }

  /** The counter items of these keys (those that exist). */
  async counters(keys: readonly string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let start = 0; start < keys.length; start += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + 100).map((pk) => ({ pk }));
      for (let attempt = 1; pending && pending.length > 0; attempt++) {
        // DynamoDB left some keys (throttled): asked again after a pause, not at once.
        if (attempt > UNPROCESSED_ATTEMPTS)
          throw new Error(`KPI counters still unprocessed after ${attempt - 1} tries`);
        if (attempt > 1) await backoff(attempt, UNPROCESSED_BACKOFF.baseMs, UNPROCESSED_BACKOFF.capMs);
        const answer: BatchGetCommandOutput = await documents().send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        items.push(...(answer.Responses?.[this.tableName] ?? []));
        pending = answer.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return items;
  }

  /** The facts of the orders placed on these days (all shards), through the day index. */
  async facts(dayShards: readonly string[]): Promise<WindowFacts[]> {
    const facts: WindowFacts[] = [];
    // A few partitions at a time: a long window is many small queries, not one scan.
    const parallel = 16;
    for (let start = 0; start < dayShards.length; start += parallel) {
      const pages = await Promise.all(dayShards.slice(start, start + parallel).map((key) => this.factsOf(key)));
      for (const page of pages) facts.push(...page);
    }
    return facts;
  }

  private async factsOf(dayShard: string): Promise<WindowFacts[]> {
    const facts: WindowFacts[] = [];
    const names = Object.fromEntries(WINDOW_ATTRIBUTES.map((name, index) => [`#a${index}`, name]));
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: KPI_DAY_INDEX,
          KeyConditionExpression: '#dayShard = :dayShard',
          // What the percentiles need, the attributes the index projects (INCLUDE): the read is billed by those.
          ProjectionExpression: Object.keys(names).join(', '),
          ExpressionAttributeNames: { ...names, '#dayShard': 'dayShard' },
          ExpressionAttributeValues: { ':dayShard': dayShard },
          ExclusiveStartKey: cursor,
        }),
      );
      facts.push(...((page.Items ?? []) as WindowFacts[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return facts;
  }
}

/** A write on the facts or the counters, tried again while it loses a conflict (up to CONFLICT_ATTEMPTS tries). */
const retryingFactConflicts = <T>(run: () => Promise<T>) =>
  retryingConflicts(run, { attempts: CONFLICT_ATTEMPTS, ...CONFLICT_BACKOFF });

/** A single write on the facts, tried again while a concurrent event's transaction holds the item. */
const write = (input: UpdateCommandInput) => retryingFactConflicts(() => documents().send(new UpdateCommand(input)));

/** The guarded write found its guard set: the transaction (or update) was refused by that condition. */
function isGuardSet(error: unknown): boolean {
  if (error instanceof TransactionCanceledException)
    return error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
  return (error as Error).name === 'ConditionalCheckFailedException';
}
