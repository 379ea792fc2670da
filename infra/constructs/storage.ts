import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

type EnvFunction = IFunction & { addEnvironment(key: string, value: string): unknown };

/** Invoice PDFs: encrypted, TLS only, never public, versioned, with server access logs. */
export class OrderDocuments extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: { removalPolicy?: RemovalPolicy } = {}) {
    super(scope, id);
    const removal = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const common = {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      removalPolicy: removal,
      autoDeleteObjects: removal === RemovalPolicy.DESTROY,
    };
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      ...common,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    this.bucket = new Bucket(this, 'Bucket', {
      ...common,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'documents/',
    });
  }

  grantWriteInvoices(fn: EnvFunction): void {
    fn.addEnvironment('DOCUMENTS_BUCKET_NAME', this.bucket.bucketName);
    this.bucket.grantPut(fn, 'invoices/*');
  }

  /** Invoices and credit notes: `invoices/*` and `credit-notes/*`. */
  grantWriteCreditNotes(fn: EnvFunction): void {
    fn.addEnvironment('DOCUMENTS_BUCKET_NAME', this.bucket.bucketName);
    this.bucket.grantPut(fn, 'credit-notes/*');
  }

  /** Reading the stored PDFs only (GET /invoices/{number}/pdf, /credit-notes/{number}/pdf). */
  grantReadDocuments(fn: EnvFunction): void {
    fn.addEnvironment('DOCUMENTS_BUCKET_NAME', this.bucket.bucketName);
    // GetObject on the two prefixes only (grantRead would add GetObject*, GetBucket* and List*).
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects('invoices/*'), this.bucket.arnForObjects('credit-notes/*')],
      }),
    );
  }

  grantDescribe(fn: EnvFunction): void {
    fn.addEnvironment('DOCUMENTS_BUCKET_NAME', this.bucket.bucketName);
    // HeadBucket is authorized by s3:ListBucket on the bucket itself.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
  }
}
