import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Function as LambdaFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ENTRY_METADATA_KEY, FILES_METADATA_KEY } from '../function-package.ts';
import { functionCode } from './function-bundling.ts';

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
export class OrderFunction extends LambdaFunction {
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
      code: functionCode(entry, props.files),
      handler: 'index.handler',
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
    });
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA_KEY, entry);
    if (props.files) (this.node.defaultChild as CfnFunction).addMetadata(FILES_METADATA_KEY, props.files);
  }
}
