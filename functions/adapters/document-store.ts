import { s3Send } from './clients/s3.ts';

/** Invoice and credit-note PDFs in the (encrypted, private) documents bucket; inbound e-mails in theirs. */
export class DocumentStore {
  constructor(private readonly bucket: string) {}

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await s3Send({ method: 'PUT', bucket: this.bucket, key, body, contentType });
  }

  async get(key: string): Promise<Uint8Array> {
    return s3Send({ method: 'GET', bucket: this.bucket, key });
  }
}
