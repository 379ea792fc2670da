import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Where the local runtime finds a function's source: the template records it, nothing is declared twice. */
export const ENTRY_METADATA_KEY = 'sales:entry';

/**
 * How every function is bundled: one ESM file per function, minified, with a source map that holds the
 * mappings but not the sources (stack traces name the TypeScript line either way; Node reads and
 * indexes the map at INIT when `--enable-source-maps` is on, and the sources were 70% of it). Exported so
 * that the bundle bench and the bundle-contents test build exactly what is deployed.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Some dependencies are CommonJS and call require(): give the ESM bundle one.
  banner:
    "import { createRequire as __createRequire } from 'module'; const require = __createRequire(import.meta.url);",
  // Bundle the pinned AWS SDK rather than the runtime's copy: the versions tested are the versions run.
  // Left out: jspdf's optional HTML and SVG renderers, which it requires only inside `html()` and
  // `addSvgAsImage()`; the invoice uses neither, and their 400 KB would be compiled at every PDF cold start.
  externalModules: ['html2canvas', 'dompurify', 'canvg'] as string[],
} satisfies BundlingOptions;

export interface OrderFunctionProps {
  /** Folder under functions/ holding handler.ts, e.g. `validate-order`. */
  stage: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
}

/** A Lambda function the house way: newest Node runtime, ARM64, X-Ray, its own log group, ESM bundle. */
export class OrderFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: OrderFunctionProps) {
    const entry = `functions/${props.stage}/handler.ts`;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: logs go to this function's log group only.
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'sales-orders',
        POWERTOOLS_METRICS_NAMESPACE: 'SalesOrders',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: LAMBDA_BUNDLING,
    });
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, entry);
  }
}
