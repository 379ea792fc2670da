import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from './clients.ts';

/** A claim older than this is taken to be of a sender that died: another may send. */
export const SEND_CLAIM_STALE_MS = 2 * 60_000;

/**
 * At most one sender of an e-mail at a time, recorded on the item it belongs to: `claimSend` takes
 * `<marker>Claim` when the marker (e.g. `emailedAt`) is not set and nobody else holds a fresh claim;
 * the winner sends, then `markSent` sets the marker. A concurrent or retried caller that loses the
 * claim does not send. Only a sender that died between sending and marking (a claim gone stale) can
 * lead to a second e-mail. A sender whose send failed may let go of its claim (`releaseClaim`), so
 * that a retry need not wait for it to go stale, and a loser may ask `isSent` whether the e-mail went
 * out or is still being sent (the reply ledger does both).
 */
export async function claimSend(
  tableName: string,
  key: Record<string, string>,
  marker: string,
  now: Date,
): Promise<boolean> {
  try {
    await documents().send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'SET #claim = :now',
        ConditionExpression:
          'attribute_exists(#key) AND attribute_not_exists(#marker) AND (attribute_not_exists(#claim) OR #claim < :stale)',
        ExpressionAttributeNames: {
          '#key': Object.keys(key)[0] as string,
          '#marker': marker,
          '#claim': `${marker}Claim`,
        },
        ExpressionAttributeValues: {
          ':now': now.toISOString(),
          ':stale': new Date(now.getTime() - SEND_CLAIM_STALE_MS).toISOString(),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** The e-mail went out: the marker is set and the claim let go. */
export async function markSent(tableName: string, key: Record<string, string>, marker: string, at: Date) {
  await documents().send(
    new UpdateCommand({
      TableName: tableName,
      Key: key,
      UpdateExpression: 'SET #marker = :at REMOVE #claim',
      ExpressionAttributeNames: { '#marker': marker, '#claim': `${marker}Claim` },
      ExpressionAttributeValues: { ':at': at.toISOString() },
    }),
  );
}

/**
 * The send failed: the claim taken at `claimedAt` is let go, if it is still that one (a claim gone
 * stale and taken over by another sender stays theirs).
 */
export async function releaseClaim(tableName: string, key: Record<string, string>, marker: string, claimedAt: Date) {
  try {
    await documents().send(
      new UpdateCommand({
        TableName: tableName,
        Key: key,
        UpdateExpression: 'REMOVE #claim',
        ConditionExpression: '#claim = :ours',
        ExpressionAttributeNames: { '#claim': `${marker}Claim` },
        ExpressionAttributeValues: { ':ours': claimedAt.toISOString() },
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Whether the e-mail was marked sent (a strongly consistent read, right after losing a claim). */
export async function isSent(tableName: string, key: Record<string, string>, marker: string): Promise<boolean> {
  const { Item } = await documents().send(
    new GetCommand({
      TableName: tableName,
      Key: key,
      ConsistentRead: true,
      ProjectionExpression: '#marker',
      ExpressionAttributeNames: { '#marker': marker },
    }),
  );
  return Item?.[marker] !== undefined;
}
