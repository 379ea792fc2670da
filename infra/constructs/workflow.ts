import { readFileSync } from 'node:fs';
import { ArnFormat, CfnOutput, type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IRuleTarget, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WORKFLOW_DEFINITION_FILE, workflowPlaceholders } from '../workflow-definition.ts';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/** The definition file, with AwaitApproval's wait set when the deployment configures one. */
function definitionBody(approvalTimeoutSeconds: number | undefined): DefinitionBody {
  const text = readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8');
  const definition = JSON.parse(text) as { States: Record<string, { TimeoutSeconds?: number }> };
  const state = definition.States.AwaitApproval;
  if (approvalTimeoutSeconds === undefined || !state || state.TimeoutSeconds === approvalTimeoutSeconds)
    return DefinitionBody.fromFile(WORKFLOW_DEFINITION_FILE);
  state.TimeoutSeconds = approvalTimeoutSeconds;
  return DefinitionBody.fromString(JSON.stringify(definition, null, 2));
}

/**
 * The order workflow: a STANDARD state machine built from the ASL file, with every task's
 * function substituted in, logs (no execution data: orders hold personal data) and X-Ray.
 */
export class OrderWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(
    scope: Construct,
    id: string,
    props: {
      tasks: Record<string, IFunction>;
      /** AwaitApproval's TimeoutSeconds when not the definition's (48 h). */
      approvalTimeoutSeconds?: number;
    },
  ) {
    super(scope, id);
    const needed = workflowPlaceholders();
    const missing = needed.filter((name) => !props.tasks[name]);
    const unused = Object.keys(props.tasks).filter((name) => !needed.includes(name));
    if (missing.length || unused.length) {
      throw new Error(`Workflow task functions do not match the definition: missing [${missing}], unused [${unused}]`);
    }
    const logs = new LogGroup(this, 'Logs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      // A fixed name lets task-token callers be granted by ARN without a reference back to the
      // state machine, which itself references them (a circular dependency otherwise).
      stateMachineName: `${Stack.of(this).stackName}-order-workflow`,
      definitionBody: definitionBody(props.approvalTimeoutSeconds),
      definitionSubstitutions: Object.fromEntries(
        Object.entries(props.tasks).map(([name, fn]) => [`${name}FunctionArn`, fn.functionArn]),
      ),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
    });
    for (const fn of Object.values(props.tasks)) fn.grantInvoke(this.stateMachine);
    // The runbook reads it from the stack (README, Operations runbook).
    new CfnOutput(scope, 'StateMachineArn', {
      value: this.stateMachine.stateMachineArn,
      description: 'The order workflow (an execution is named by its order id)',
    });
  }

  /** Lets a function start order executions (the intake). */
  /** The functions that may start and describe executions (grantStart): cdk-nag acknowledges their wildcard. */
  readonly starters: IFunction[] = [];

  /**
   * Lets a function start executions, and describe them: a start under a name already taken is checked
   * against the existing execution (WorkflowStarter), and the reconciler reads an execution's status.
   */
  grantStart(fn: EnvFunction): void {
    this.starters.push(fn);
    fn.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(fn);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['states:DescribeExecution'], resources: [this.executionArnPattern()] }),
    );
  }

  /** Lets a function resume waiting tasks (SendTaskSuccess/Failure/Heartbeat); the token names the execution. */
  grantTaskResponse(fn: IFunction): void {
    const stack = Stack.of(this);
    const arn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: `${stack.stackName}-order-workflow`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
        resources: [arn],
      }),
    );
  }

  /** Lets a function fail waiting tasks only (a cancellation wakes them with OrderCancelled; it never resumes one). */
  grantTaskFailure(fn: IFunction): void {
    const stack = Stack.of(this);
    const arn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: `${stack.stackName}-order-workflow`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new PolicyStatement({ actions: ['states:SendTaskFailure'], resources: [arn] }));
  }

  /** The ARN of every execution of the order workflow (the execution name is the order id). */
  executionArnPattern(): string {
    const stack = Stack.of(this);
    return stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${stack.stackName}-order-workflow:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /**
   * Nothing lost when an execution ends outside the workflow's own Catch paths: executions that end
   * ABORTED (an operator's StopExecution), TIMED_OUT or FAILED go to the reconciler (default bus,
   * where Step Functions publishes its status changes), and a scheduled sweep hands it the orders
   * left open (never started, or whose status event was missed). The reconciler may start and
   * describe executions.
   */
  addReconciler(fn: EnvFunction, props: { sweepEvery: Duration; target: IRuleTarget }): void {
    const { target } = props;
    new Rule(this, 'InterruptedExecutions', {
      description: 'Order workflow executions that ended ABORTED, TIMED_OUT or FAILED, to the reconciler',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      },
      targets: [target],
    });
    new Rule(this, 'OpenOrdersSweep', {
      description: 'Sweeps orders left open (never started, or interrupted unnoticed) to the reconciler',
      schedule: Schedule.rate(props.sweepEvery),
      targets: [target],
    });
    this.grantStart(fn);
  }

  /** Lets a function describe the state machine (health check). */
  grantDescribe(fn: EnvFunction): void {
    fn.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['states:DescribeStateMachine'], resources: [this.stateMachine.stateMachineArn] }),
    );
  }
}
