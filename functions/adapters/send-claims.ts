import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EmailSendInProgress } from '../core/errors.ts';
import { documents } from './clients/dynamodb.ts';

/** A claim older than this is taken to be of a sender that died: another may send. */
export const SEND_CLAIM_STALE_MS = 2 * 60_000;

/**
 * At most one sender of an e-mail at a time, recorded on the item it belongs to: `claimSend` takes
 * `<marker>Claim` when the marker (e.g. `emailedAt`) is not set and nobody else holds a fresh claim;
 * the winner sends, then `markSent` sets the marker. A concurrent or retried caller that loses the
 * claim does not send. Only a sender that died between sending and marking (a claim gone stale) can
 * lead to a second e-mail. Senders use `sendOnce`, which also lets go of the claim when the send fails.
 */
async function claimSend(tableName: string, key: Record<string, string>, marker: string, now: Date): Promise<boolean> {
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
async function markSent(tableName: string, key: Record<string, string>, marker: string, at: Date) {
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
async function releaseClaim(tableName: string, key: Record<string, string>, marker: string, claimedAt: Date) {
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
async function isSent(tableName: string, key: Record<string, string>, marker: string): Promise<boolean> {
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

/** Where an e-mail's marker (and its claim, `<marker>Claim`) is kept: an item of a table. */
export interface SendTarget {
  tableName: string;
  key: Record<string, string>;
  marker: string;
}

/**
 * Sends an e-mail once (see `claimSend`): runs `send` unless the e-mail was sent, and returns when it
 * was marked sent, or undefined if it had been sent already. When `send` fails the claim is let go
 * (if still ours) and the error rethrown, so that a retry a moment later sends it rather than waiting
 * for the claim to go stale. A caller that loses the claim to one that has not marked the e-mail sent
 * throws `EmailSendInProgress` (transient): that sender may yet fail, and a caller that took the
 * e-mail for sent and answered success would leave it unsent for good.
 */
export async function sendOnce(
  target: SendTarget,
  clock: () => Date,
  send: () => Promise<unknown>,
): Promise<Date | undefined> {
  const { tableName, key, marker } = target;
  const claimedAt = clock();
  if (!(await claimSend(tableName, key, marker, claimedAt))) {
    if (await isSent(tableName, key, marker)) return undefined;
    throw new EmailSendInProgress('The e-mail is being sent by another attempt; try again');
  }
  try {
    await send();
  } catch (error) {
    // Best effort: if letting go fails too, the claim goes stale (SEND_CLAIM_STALE_MS) and a retry sends.
    await releaseClaim(tableName, key, marker, claimedAt).catch(() => undefined);
    throw error;
  }
  const at = clock();
  await markSent(tableName, key, marker, at);
  return at;
}
