/** What every local AWS service emulator hands back once it is ready to serve requests. */
export interface LocalEmulator {
  /** Base URL to pass as `endpoint` to the AWS SDK or `--endpoint-url` to the AWS CLI. */
  endpoint: string;
  port: number;
  /** Milliseconds from the start call until the service answered, to spot slow starts. */
  startupMs: number;
  /** Stops the service and releases its port; safe to call more than once. */
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port to listen on; a free one by default. */
  port?: number;
}

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Local emulators accept any credentials, but the SDK refuses to sign without some. */
export const localCredentials: LocalCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
