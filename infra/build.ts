import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { acknowledgeFindings } from './nag-acknowledgements.ts';
import { OrderStack } from './order-stack.ts';

/**
 * CDK feature flags, set here rather than in cdk.json so that `cdk synth`, the tests and the local
 * runtime build the same template.
 */
const FEATURE_FLAGS = {
  // Server access logs are granted to the logging service by bucket policy, not by the legacy ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export interface BuildOptions {
  /** Extra CDK context, e.g. `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling in tests and the local runtime. */
  context?: Record<string, unknown>;
  /** Where the cloud assembly goes (default: a temporary directory, or cdk.out under the CDK CLI). */
  outdir?: string;
}

/** The CDK app: `cdk synth/deploy` (infra/app.ts), the infra tests and the local runtime all build it here. */
export function buildOrderApp(options: BuildOptions = {}): { app: App; stack: OrderStack } {
  const app = new App({ context: { ...FEATURE_FLAGS, ...options.context }, outdir: options.outdir });
  const context = (key: string, fallback: string) => (app.node.tryGetContext(key) as string | undefined) ?? fallback;
  const stack = new OrderStack(app, context('stackName', 'SalesOrders'), {
    description: 'Sales order management: Step Functions workflow, Lambda, DynamoDB, SES, EventBridge',
    senderEmail: context('senderEmail', 'invoices@example.com'),
    financeEmail: context('financeEmail', 'finance@example.com'),
    approversEmail: context('approversEmail', 'approvals@example.com'),
    removalPolicy: context('removalPolicy', 'retain') === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  acknowledgeFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}

/** The synthesized CloudFormation template, without bundling (fast, offline). */
export function synthTemplate(): Record<string, unknown> {
  const { app, stack } = buildOrderApp({ context: { 'aws:cdk:bundling-stacks': [] } });
  return app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
}
