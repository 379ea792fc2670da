import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny server for the AWS JSON protocols (awsJson1_0 / awsJson1_1): POST / with
 * `X-Amz-Target: <Prefix>.<Operation>` and a JSON body. Used by the local Step Functions,
 * EventBridge and Secrets Manager services so that the AWS SDK and the AWS CLI talk to
 * them unchanged.
 */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export type Operation = (input: Record<string, unknown>) => Promise<unknown> | unknown;

export interface AwsJsonServerOptions {
  /** Target prefix, e.g. `AWSStepFunctions`, `AWSEvents`, `secretsmanager`. */
  targetPrefix: string;
  /** `1.0` or `1.1`: only changes the response content type. */
  jsonVersion: '1.0' | '1.1';
  operations: Record<string, Operation>;
  host?: string;
  port?: number;
  /** Optional handler for non-AWS requests (GET pages, health checks). Return false when not handled. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
}

export interface RunningServer {
  endpoint: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAwsJsonServer(options: AwsJsonServerOptions): Promise<RunningServer> {
  const contentType = `application/x-amz-json-${options.jsonVersion}`;
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const payload = JSON.stringify(body ?? {});
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(payload),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(payload);
  };

  const server = createServer(async (req, res) => {
    try {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || typeof target !== 'string') {
        if (options.fallback && (await options.fallback(req, res))) return;
        send(res, 404, { __type: 'UnknownOperationException', message: 'Not an AWS JSON request' });
        return;
      }
      const [prefix, name] = target.split('.');
      const operation = prefix === options.targetPrefix && name ? options.operations[name] : undefined;
      if (!operation) {
        send(res, 400, { __type: 'UnknownOperationException', message: `Unsupported operation ${target}` });
        return;
      }
      const raw = await readBody(req);
      let input: Record<string, unknown>;
      try {
        input = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        send(res, 400, { __type: 'SerializationException', message: 'Request body is not valid JSON' });
        return;
      }
      send(res, 200, await operation(input));
    } catch (error) {
      if (error instanceof AwsServiceError) {
        send(res, error.statusCode, { __type: error.code, message: error.message });
      } else {
        send(res, 500, { __type: 'InternalFailure', message: error instanceof Error ? error.message : String(error) });
      }
    }
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
