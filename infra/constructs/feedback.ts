import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/**
 * The customer satisfaction survey after delivery: the secret that signs the survey links' tokens
 * (HMAC-SHA256 of the order id and the expiry, functions/core/feedback.ts). The sender and the two
 * survey routes read it.
 */
export class CustomerFeedback extends Construct {
  readonly tokenSecret: Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.tokenSecret = new Secret(this, 'TokenSecret', {
      description: 'Signs the links of the customer satisfaction survey e-mails (HMAC-SHA256 of order id and expiry)',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
  }

  /** The secret's ARN in FEEDBACK_SECRET_ID, and read access to it alone. */
  grantTokenSecret(fn: EnvFunction): void {
    fn.addEnvironment('FEEDBACK_SECRET_ID', this.tokenSecret.secretArn);
    this.tokenSecret.grantRead(fn);
  }
}
