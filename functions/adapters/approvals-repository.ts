import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ApprovalRecord, Principal } from '../core/schemas.ts';
import { documents } from './clients/dynamodb.ts';
import { sendOnce } from './send-claims.ts';

/**
 * Approvals table, partition `approvalId` (random, the id in the e-mailed decision link): one
 * request per order, holding the task token of the workflow waiting in AwaitApproval. A decision
 * is a conditional write (PENDING -> APPROVED/REJECTED), so a link works once.
 */
export class ApprovalsRepository {
  constructor(private readonly tableName: string) {}

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const result = await documents().send(
      new GetCommand({ TableName: this.tableName, Key: { approvalId }, ConsistentRead: true }),
    );
    return result.Item as ApprovalRecord | undefined;
  }

  /**
   * Writes a new request together with the order's side (`orderWrite`, from the orders repository),
   * in one transaction. False when the order refused: it already names an approval, or is closed.
   */
  async create(record: ApprovalRecord, orderWrite: object): Promise<boolean> {
    try {
      await documents().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: record,
                ConditionExpression: 'attribute_not_exists(approvalId)',
              },
            },
            orderWrite as never,
          ],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [, order] = error.CancellationReasons ?? [];
      if (order?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    }
  }

  /**
   * A retried AwaitApproval waits with a new token: the request takes it, decided or not (a decision
   * whose resume is still to come then resumes the attempt that waits). Returns the request as stored.
   */
  async waitWith(approvalId: string, taskToken: string): Promise<ApprovalRecord> {
    return this.update(approvalId, 'SET taskToken = :token', 'attribute_exists(approvalId)', {
      ':token': taskToken,
    });
  }

  /**
   * Sends the approvers' e-mail once (see send-claims.ts `sendOnce`): when it was marked sent, undefined
   * if it had been; throws EmailSendInProgress while another attempt holds it unsent.
   */
  emailOnce(approvalId: string, clock: () => Date, send: () => Promise<unknown>): Promise<Date | undefined> {
    return sendOnce({ tableName: this.tableName, key: { approvalId }, marker: 'emailedAt' }, clock, send);
  }

  /**
   * Records the decision once: only a PENDING request not yet expired at `now` takes it.
   * Returns undefined when recorded, else the request as it is (decided, expired, or gone).
   */
  async decide(
    approvalId: string,
    decision: { status: 'APPROVED' | 'REJECTED'; decidedBy: Principal; comment?: string },
    now: Date,
  ): Promise<ApprovalRecord | undefined> {
    try {
      await documents().send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { approvalId },
          UpdateExpression: `SET #status = :status, decidedAt = :now, decidedBy = :by${decision.comment ? ', #comment = :comment' : ''}`,
          ConditionExpression: '#status = :pending AND expiresAt > :now',
          ExpressionAttributeNames: { '#status': 'status', ...(decision.comment ? { '#comment': 'comment' } : {}) },
          ExpressionAttributeValues: {
            ':status': decision.status,
            ':pending': 'PENDING',
            ':now': now.toISOString(),
            ':by': decision.decidedBy,
            ...(decision.comment ? { ':comment': decision.comment } : {}),
          },
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return (await this.get(approvalId)) as ApprovalRecord;
    }
  }

  /** The waiting workflow was told (or no longer waits): a replayed decision has nothing left to do. */
  async markResumed(approvalId: string): Promise<void> {
    await this.update(approvalId, 'SET resumed = :yes', 'attribute_exists(approvalId)', { ':yes': true });
  }

  /** A pending request whose workflow stopped waiting (timed out): no decision is taken any more. */
  async expire(approvalId: string): Promise<void> {
    try {
      await this.update(approvalId, 'SET #status = :expired', '#status = :pending', {
        ':expired': 'EXPIRED',
        ':pending': 'PENDING',
      });
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  private async update(
    approvalId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<ApprovalRecord> {
    const usesStatus = expression.includes('#status') || condition.includes('#status');
    const result = await documents().send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { approvalId },
        UpdateExpression: expression,
        ConditionExpression: condition,
        ...(usesStatus ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return result.Attributes as ApprovalRecord;
  }
}
