import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/**
 * Order approvals: the secret that signs the e-mailed decision links (hex HMAC-SHA256 of the
 * approval id), and who receives the requests.
 */
export class OrderApprovals extends Construct {
  readonly linkSecret: Secret;

  get timeoutSeconds(): number {
    return this.props.timeoutSeconds;
  }

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { approversEmail: string; timeoutSeconds: number; highValueThresholds: string },
  ) {
    super(scope, id);
    if (!Number.isInteger(props.timeoutSeconds) || props.timeoutSeconds < 1)
      throw new Error(`approvalTimeoutSeconds must be a whole number of seconds, got ${props.timeoutSeconds}`);
    this.linkSecret = new Secret(this, 'LinkSecret', {
      description: 'Signs the decision links of order approval e-mails (HMAC-SHA256 of the approval id)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
  }

  grantLinkSecret(fn: EnvFunction): void {
    fn.addEnvironment('APPROVAL_LINK_SECRET_ID', this.linkSecret.secretArn);
    this.linkSecret.grantRead(fn);
  }

  /** The settings ValidateOrder decides with and RequestApproval writes the request with. */
  configure(fn: EnvFunction): void {
    fn.addEnvironment('APPROVAL_TIMEOUT_SECONDS', String(this.props.timeoutSeconds));
    fn.addEnvironment('HIGH_VALUE_THRESHOLDS', this.props.highValueThresholds);
  }

  addApprovers(fn: EnvFunction): void {
    fn.addEnvironment('APPROVERS_EMAIL', this.props.approversEmail);
  }
}
