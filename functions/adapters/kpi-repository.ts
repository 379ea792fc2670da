import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { StageTime, StoredFacts, Transition } from '../core/kpi-projection.ts';
import { documents } from './clients.ts';

/** The sparse index of the facts items by placed day and shard (`dayShard`): the window's facts. */
export const KPI_DAY_INDEX = 'byPlacedDay';

/**
 * The KPI table (the projection's store; the rules are in core/kpi-projection.ts). Items are keyed by
 * `pk`: facts `ORDER#<orderId>`, counters `DAY#<day>#<shard>` and `NPS#<day>#<shard>`, survey answers
 * `FEEDBACK#<orderId>`.
 */
export class KpiRepository {
  constructor(private readonly tableName: string) {}

  /**
   * Applies a transition: its guarded write and its counters in one transaction. False when the guard
   * was already set (a duplicate or a later copy of the same fact): nothing is written.
   */
  async apply(transition: Transition): Promise<boolean> {
    const names: Record<string, string> = { '#guard': transition.guard };
    const values: Record<string, unknown> = {};
    const assignments = Object.entries(transition.set).map(([field, value], index) => {
      names[`#s${index}`] = field;
      values[`:s${index}`] = value;
      return `#s${index} = :s${index}`;
    });
    const facts = {
      TableName: this.tableName,
      Key: { pk: transition.key },
      UpdateExpression: `SET ${assignments.join(', ')}`,
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

  /** Records a stage's first time on the facts; the facts after it, or undefined when it was known. */
  async recordStage(stage: StageTime): Promise<StoredFacts | undefined> {
    try {
      const { Attributes } = await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: stage.key },
          UpdateExpression: 'SET #times.#stage = :at',
          // The facts exist (the event's first transition created them) and the stage is not known yet.
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#times.#stage)',
          ExpressionAttributeNames: { '#times': 'stageTimes', '#stage': stage.stage },
          ExpressionAttributeValues: { ':at': stage.at },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as StoredFacts;
    } catch (error) {
      if (isGuardSet(error)) return undefined;
      throw error;
    }
  }

  /** The counter items of these keys (those that exist). */
  async counters(keys: readonly string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let start = 0; start < keys.length; start += 100) {
      let pending: Record<string, unknown>[] | undefined = keys.slice(start, start + 100).map((pk) => ({ pk }));
      while (pending && pending.length > 0) {
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
  async facts(dayShards: readonly string[]): Promise<StoredFacts[]> {
    const facts: StoredFacts[] = [];
    // A few partitions at a time: a long window is many small queries, not one scan.
    const parallel = 8;
    for (let start = 0; start < dayShards.length; start += parallel) {
      const pages = await Promise.all(dayShards.slice(start, start + parallel).map((key) => this.factsOf(key)));
      for (const page of pages) facts.push(...page);
    }
    return facts;
  }

  private async factsOf(dayShard: string): Promise<StoredFacts[]> {
    const facts: StoredFacts[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await documents().send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: KPI_DAY_INDEX,
          KeyConditionExpression: 'dayShard = :dayShard',
          ExpressionAttributeValues: { ':dayShard': dayShard },
          ExclusiveStartKey: cursor,
        }),
      );
      facts.push(...((page.Items ?? []) as StoredFacts[]));
      cursor = page.LastEvaluatedKey;
    } while (cursor);
    return facts;
  }
}

/** The guarded write found its guard set: the transaction (or update) was refused by that condition. */
function isGuardSet(error: unknown): boolean {
  if (error instanceof TransactionCanceledException)
    return error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
  return (error as Error).name === 'ConditionalCheckFailedException';
}
