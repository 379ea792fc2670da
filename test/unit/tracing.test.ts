import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { traced, tracer, tracingWanted } from '../../functions/lib/powertools.ts';

const LAMBDA = 'AWS_Lambda_nodejs24.x';

describe('tracing', () => {
  it('is wanted in a Lambda execution environment unless POWERTOOLS_TRACE_ENABLED is false', () => {
    expect(tracingWanted({ AWS_EXECUTION_ENV: LAMBDA })).toBe(true);
    expect(tracingWanted({ AWS_EXECUTION_ENV: LAMBDA, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
    expect(tracingWanted({ AWS_EXECUTION_ENV: LAMBDA, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
    expect(tracingWanted({ AWS_EXECUTION_ENV: LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(false);
  });

  it('outside one, loads no tracer and leaves the SDK clients as they are', () => {
    expect(process.env.AWS_EXECUTION_ENV).toBeUndefined();
    expect(tracer).toBeUndefined();
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(traced(client)).toBe(client);
  });
});
