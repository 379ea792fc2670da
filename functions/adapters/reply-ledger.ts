import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from './clients/dynamodb.ts';
import { sendOnce } from './send-claims.ts';

/**
 * Replies sent once (orders by e-mail: the acknowledgement or the error reply to one message, however
 * often SES or Lambda delivers it). Each reply is an item `reply#<digest>` in the idempotency table,
 * expiring after a week (TTL on `expiration`, epoch seconds; mail servers retry for up to 5 days);
 * Powertools' records are `<function>#<hash>`, so the two never meet. Sending is claimed as for invoices (send-claims.ts).
 */
export class ReplyLedger {
  constructor(private readonly tableName: string) {}

  /**
   * Runs `send` unless this reply was sent already; true if it ran, false if it had been sent. Throws
   * (so that Lambda retries the event) when `send` fails, after letting go of the claim, and when
   * another attempt holds the claim without having marked the reply sent: that attempt may yet fail,
   * and a retry that took it for sent would leave the sender without a reply.
   */
  async sendOnce(digest: string, now: Date, expiresAt: Date, send: () => Promise<unknown>): Promise<boolean> {
    const key = { id: `reply#${digest}` };
    try {
      await documents().send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, expiration: Math.floor(expiresAt.getTime() / 1000) },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // If letting go of a failed send's claim fails too, the claim goes stale before Lambda's last retry.
    const sent = await sendOnce({ tableName: this.tableName, key, marker: 'repliedAt' }, () => now, send);
    return sent !== undefined;
  }
}
