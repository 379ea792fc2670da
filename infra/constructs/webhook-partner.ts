import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/**
 * A partner that calls one of our webhooks (the carrier, the CRM): the shared secret that signs its calls
 * (X-Signature HMAC-SHA256), generated in Secrets Manager, and the grant that lets the webhook read it.
 */
export class WebhookPartner extends Construct {
  readonly webhookSecret: Secret;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { description: string; secretIdVariable: string },
  ) {
    super(scope, id);
    this.webhookSecret = new Secret(this, 'WebhookSecret', {
      description: props.description,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
  }

  /** The secret's ARN in the function's `secretIdVariable`, and read access to it alone. */
  grantWebhookSecret(fn: EnvFunction): void {
    fn.addEnvironment(this.props.secretIdVariable, this.webhookSecret.secretArn);
    this.webhookSecret.grantRead(fn);
  }
}
