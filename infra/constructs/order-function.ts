import { posix } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, type ICommandHooks, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Where the local runtime finds a function's source: the template records it, nothing is declared twice. */
export const ENTRY_METADATA_KEY = 'sales:entry';
/** The files a function reads beside its bundle (bundle path -> repository path), for the local runtime and the bench. */
export const FILES_METADATA_KEY = 'sales:files';

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
  externalModules: [] as string[],
} satisfies BundlingOptions;

export interface OrderFunctionProps {
  /** Folder under functions/ holding handler.ts, e.g. `validate-order`. */
  stage: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
  environment?: Record<string, string>;
  /**
   * Files the code reads beside its bundle (`new URL('./fonts/…', import.meta.url)`), bundle path ->
   * repository path: copied into the deployment package, read on demand rather than compiled into
   * the bundle that every cold start parses.
   */
  files?: Record<string, string>;
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
      bundling: props.files ? { ...LAMBDA_BUNDLING, commandHooks: copyFiles(props.files) } : LAMBDA_BUNDLING,
    });
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, entry);
    if (props.files) (this.node.defaultChild as CfnFunction).addMetadata(FILES_METADATA_KEY, props.files);
  }
}

/**
 * Bundling hooks that copy files into the deployment package once the bundle is built: shell commands,
 * run by a POSIX shell (Linux and macOS, or Docker when CDK bundles in a container).
 */
function copyFiles(files: Record<string, string>): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      Object.entries(files).flatMap(([target, source]) => [
        `mkdir -p "${posix.dirname(`${outputDir}/${target}`)}"`,
        `cp "${inputDir}/${source}" "${outputDir}/${target}"`,
      ]),
  };
}
