import { type Stack, Validations } from 'aws-cdk-lib';
import { type CfnRoute, HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Role } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { IConstruct } from 'constructs';
import { OrderEmail } from './constructs/email.ts';
import { OrderEvents } from './constructs/events.ts';
import { OrderInbox } from './constructs/inbox.ts';
import { OrderWorkflow } from './constructs/workflow.ts';
import { workflowPlaceholders } from './workflow-definition.ts';

/** Why the public routes (functions/core/access.ts ROUTE_ACCESS) have no JWT authorizer. */
const PUBLIC_ROUTE_REASONS: Record<string, string> = {
  'POST /webhooks/carrier':
    'The carrier webhook authenticates every call by HMAC-SHA256 signature with a 5-minute replay window, not by token',
  'POST /webhooks/crm':
    'The CRM deal webhook authenticates every call by HMAC-SHA256 signature with a 5-minute replay window, not by token',
  'GET /feedback/{token}':
    "The survey page of an e-mailed link: the customer has no account; the link's signed, expiring token (HMAC-SHA256) is the authorization, and the page records nothing",
  'POST /feedback/{token}':
    "The customer's survey answer: the customer has no account; the link's signed, expiring token (HMAC-SHA256) is the authorization, and an order takes one answer",
  'GET /health': 'The health check is for load balancers and uptime probes; it reveals only which services answer',
  'GET /openapi.json':
    'The API description is public so that integrators can read the contract before they hold a client',
};

const ack = (scope: IConstruct, id: string, reason: string) =>
  Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });

/**
 * A resource as cdk-nag names it in a finding: the resolved value with `{ Ref: X }` as `<X>` and
 * `{ Fn::GetAtt: [Id, Attr] }` as `<Id.Attr>`. Deriving the name from the stack keeps an
 * acknowledgement valid in every environment: agnostic (`<AWS::Region>`) or a concrete account and
 * region, as `cdk synth` gives the app whenever the CLI resolves them.
 */
export function nagResource(stack: Stack, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string' || typeof part === 'number') return String(part);
    const node = part as Record<string, unknown>;
    if (typeof node.Ref === 'string') return `<${node.Ref}>`;
    if (Array.isArray(node['Fn::GetAtt'])) return `<${(node['Fn::GetAtt'] as string[]).join('.')}>`;
    if (Array.isArray(node['Fn::Join'])) {
      const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
      return parts.map(render).join(separator);
    }
    throw new Error(`Cannot name ${JSON.stringify(part)} as cdk-nag does`);
  };
  return render(stack.resolve(value));
}

/**
 * cdk-nag AwsSolutions findings we accept, each with its reason. Everything else is fixed at
 * the source; the infra tests fail on any finding not listed here.
 */
export function acknowledgeFindings(stack: Stack): void {
  for (const construct of stack.node.findAll()) {
    if (construct instanceof TableV2) {
      ack(
        stack,
        `IAM5[Resource::<${stack.getLogicalId(construct.node.defaultChild as never)}.Arn>/index/*]`,
        "Table grants include the table's own secondary indexes (the tracking-number lookup), nothing else",
      );
    }
    if (construct instanceof HttpRoute) {
      // Only the public routes: every other route has the JWT authorizer, and nag must see it.
      const reason = PUBLIC_ROUTE_REASONS[(construct.node.defaultChild as CfnRoute).routeKey];
      if (reason) ack(construct, 'APIG4', reason);
    }
    if (
      construct instanceof LambdaFunction &&
      [
        'IssueInvoice',
        'IssueCreditNote',
        'RecordPayment',
        'RequestApproval',
        'ExpireBackorder',
        'CloseOrder',
        'FinishCreditNotes',
        'InboundEmail',
        'RequestFeedback',
      ].includes(construct.node.id) &&
      construct.role instanceof Role
    ) {
      ack(
        construct.role,
        `IAM5[Resource::${nagResource(stack, OrderEmail.identitiesArn(stack))}]`,
        'SES checks sends against every identity involved (recipients too, in the sandbox); the statement is limited to mail from the configured sender by ses:FromAddress',
      );
    }
    if (construct instanceof Queue && construct.node.scope instanceof OrderInbox) {
      ack(
        construct,
        'SQS3',
        "The queue is itself where failed order e-mails end up (InboundEmail's on-failure destination); ops redrive its records by hand",
      );
    }
    if (construct instanceof Queue && construct.node.scope instanceof OrderEvents) {
      ack(
        construct,
        'SQS3',
        "The queue is itself the dead-letter queue of the stack's EventBridge rule targets; ops replay its events by hand (README, Operations runbook)",
      );
    }
    if (construct instanceof Secret) {
      ack(
        construct,
        'SMG4',
        construct.node.id === 'LinkSecret'
          ? 'Rotating the approval link secret would void the links of approvals still pending; it is rotated by hand, between approval windows'
          : construct.node.scope?.node.id === 'Feedback'
            ? 'Rotating the survey link secret would void the links of surveys still open (30 days); it is rotated by hand'
            : construct.node.scope?.node.id === 'Crm'
              ? 'The webhook secret is shared with the CRM and rotated together with it, not on a schedule'
              : 'The webhook secret is shared with the carrier and rotated together with them, not on a schedule',
      );
    }
    if (construct instanceof Bucket) {
      ack(
        stack,
        `IAM5[Resource::<${stack.getLogicalId(construct.node.defaultChild as never)}.Arn>/invoices/*]`,
        'The invoice writer may put objects under the invoices/ prefix only',
      );
      ack(
        stack,
        `IAM5[Resource::<${stack.getLogicalId(construct.node.defaultChild as never)}.Arn>/credit-notes/*]`,
        'The credit-note writer puts, and the document reader gets, objects under the credit-notes/ prefix only',
      );
      ack(stack, 'IAM5[Action::s3:Abort*]', 'grantPut includes aborting its own multipart uploads of invoice PDFs');
      ack(
        stack,
        `IAM5[Resource::<${stack.getLogicalId(construct.node.defaultChild as never)}.Arn>/inbound/*]`,
        'The order inbox function reads the e-mails SES stored under the inbound/ prefix only',
      );
    }
    if (construct instanceof LambdaFunction && construct.role instanceof Role) {
      ack(
        construct.role,
        'IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions',
      );
    }
    if (construct instanceof OrderWorkflow) {
      for (const fn of construct.starters) {
        if (!(fn instanceof LambdaFunction && fn.role instanceof Role)) continue;
        ack(
          fn.role,
          `IAM5[Resource::${nagResource(stack, construct.executionArnPattern())}]`,
          'Describes executions of the order workflow only, any order (the execution name is the order id): to check a start under a name already taken, and for the reconciler to read their status',
        );
      }
    }
    if (construct instanceof StateMachine) {
      ack(
        construct,
        'IAM5[Resource::*]',
        'X-Ray tracing and CloudWatch Logs log delivery actions support no resource-level permissions',
      );
      for (const task of workflowPlaceholders()) {
        const fn = stack.node.tryFindChild(task) as LambdaFunction | undefined;
        if (!fn) continue;
        ack(
          construct,
          `IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as never)}.Arn>:*]`,
          'lambda:InvokeFunction on the task function and its versions, as CDK grantInvoke writes it',
        );
      }
    }
  }
}
