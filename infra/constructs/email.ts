import { Stack } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ConfigurationSet, EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

export interface OrderEmailProps {
  /** Verified sender, e.g. invoices@example.com (SES sends a verification e-mail on deploy). */
  senderEmail: string;
  /** Finance's mailbox: receives a copy of every invoice. */
  financeEmail: string;
}

/** Invoice e-mail through SES: a sender identity and a configuration set (reputation metrics). */
export class OrderEmail extends Construct {
  readonly identity: EmailIdentity;
  readonly configurationSet: ConfigurationSet;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: OrderEmailProps,
  ) {
    super(scope, id);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', { reputationMetrics: true });
    this.identity = new EmailIdentity(this, 'Sender', {
      identity: Identity.email(props.senderEmail),
      configurationSet: this.configurationSet,
    });
  }

  /** Every SES identity of the stack's account and region: what a send is authorized against. */
  static identitiesArn(stack: Stack): string {
    return stack.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' });
  }

  grantSend(fn: EnvFunction): void {
    const stack = Stack.of(this);
    fn.addEnvironment('SENDER_EMAIL', this.props.senderEmail);
    fn.addEnvironment('FINANCE_EMAIL', this.props.financeEmail);
    fn.addEnvironment('SES_CONFIGURATION_SET', this.configurationSet.configurationSetName);
    // SES authorizes a send against every identity involved — in the sandbox the verified
    // recipients too — so the grant covers identities, but only for mail from our sender.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          OrderEmail.identitiesArn(stack),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': this.props.senderEmail } },
      }),
    );
  }

  grantAccountRead(fn: EnvFunction): void {
    // ses:GetAccount has no resource-level permissions.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['ses:GetAccount'], resources: ['*'] }));
  }
}
