import { describe, expect, it } from 'vitest';
import { LambdaInvocationError, LocalLambdas } from '../../local/lambda.ts';
import { ROOT_DIR } from '../../local/runtime.ts';

const fn = (name: string, environment: Record<string, string>) => ({
  logicalId: name,
  name,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  entry: 'test/fixtures/config-reader.ts',
  timeoutSeconds: 3,
  memoryMb: 128,
  architecture: 'arm64' as const,
  environment,
});

describe('local Lambda functions', () => {
  it('fails at start-up when a function reads configuration the template does not give it', async () => {
    // Another function of the deployment has the variable: a shared process must not leak it.
    const lambdas = new LocalLambdas([fn('Given', { FIXTURE_TABLE_NAME: 'T' }), fn('NotGiven', {})], ROOT_DIR);
    await expect(lambdas.load({})).rejects.toThrow(/INIT of (Given|NotGiven)/);
  });

  it('invokes by ARN or name with a JSON copy of the event and reports errors as Lambda does', async () => {
    const lambdas = new LocalLambdas([fn('Reader', { FIXTURE_TABLE_NAME: 'Orders' })], ROOT_DIR);
    await lambdas.load({});
    const event = { hello: 'world' };
    expect(await lambdas.invoke('Reader', event)).toEqual({ table: 'Orders', received: event });
    expect(await lambdas.invoke('arn:aws:lambda:us-east-1:000000000000:function:Reader:$LATEST', {})).toMatchObject({
      table: 'Orders',
    });
    const error = (await lambdas
      .invoke('Reader', { fail: 'OutOfStock' })
      .catch((e: unknown) => e)) as LambdaInvocationError;
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error.name).toBe('OutOfStock');
    expect(JSON.parse(error.message)).toMatchObject({
      errorType: 'OutOfStock',
      errorMessage: 'asked to fail: OutOfStock',
    });
    await expect(lambdas.invoke('Missing', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('retries a failed asynchronous invocation twice, as Lambda does for EventBridge targets, then gives up', async () => {
    const lambdas = new LocalLambdas([fn('Consumer', { FIXTURE_TABLE_NAME: 'Orders' })], ROOT_DIR);
    await lambdas.load({});
    await lambdas.invokeAsync('Consumer', { key: 'twice', failTimes: 2 }, [10, 10]);
    expect(await lambdas.invoke('Consumer', { key: 'twice' })).toEqual({ table: 'Orders', calls: 4 });
    await expect(lambdas.invokeAsync('Consumer', { key: 'always', failTimes: 9 }, [10, 10])).rejects.toThrow(
      /call 3 of always fails/,
    );
  });

  it('stops retrying failed asynchronous invocations once the runtime stops', async () => {
    const lambdas = new LocalLambdas([fn('Consumer', { FIXTURE_TABLE_NAME: 'Orders' })], ROOT_DIR);
    await lambdas.load({});
    const delivery = lambdas.invokeAsync('Consumer', { key: 'stopping', failTimes: 1 }, [50]);
    lambdas.stop();
    // The failure is not retried (the event goes with the runtime): the next call is only the second.
    await expect(delivery).rejects.toThrow(/call 1 of stopping fails/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lambdas.invoke('Consumer', { key: 'stopping' })).toEqual({ table: 'Orders', calls: 2 });
  });

  it('refuses two functions that set one variable differently (they share a process here)', () => {
    const lambdas = new LocalLambdas([fn('A', { X: '1' }), fn('B', { X: '2' })], ROOT_DIR);
    expect(() => lambdas.environment()).toThrow(/set X differently/);
  });
});
