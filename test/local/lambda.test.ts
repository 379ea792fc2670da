import { readdirSync, rmSync, statSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sandboxState } from '../../functions/adapters/sandbox-state.ts';
import { ROUTE_ACCESS } from '../../functions/core/access.ts';
import { BACKGROUND_NICE, INTAKE_ENVIRONMENTS, LambdaInvocationError, LocalLambdas } from '../../local/lambda.ts';
import { INTAKE_ROUTES, ROOT_DIR } from '../../local/runtime.ts';
import type { LocalFunction } from '../../local/template.ts';
import { shiftClock } from '../support/runtime.ts';

const fn = (name: string, environment: Record<string, string>, more: Partial<LocalFunction> = {}): LocalFunction => ({
  logicalId: name,
  name,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  entry: 'test/fixtures/config-reader.ts',
  timeoutSeconds: 3,
  memoryMb: 128,
  architecture: 'arm64' as const,
  environment,
  ...more,
});
const probe = (name: string, more: Partial<LocalFunction> = {}) =>
  fn(name, { PROBE_VARIABLE: name }, { entry: 'test/fixtures/environment-probe.ts', ...more });

type Probe = { environmentId: string; invocations: number; variable: string | null; leaked: string | null };

const running: LocalLambdas[] = [];
async function started(functions: LocalFunction[], options = {}) {
  const lambdas = new LocalLambdas(functions, ROOT_DIR, options);
  running.push(lambdas);
  await lambdas.load({});
  return lambdas;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((lambdas) => lambdas.close()));
});

describe('local Lambda functions', () => {
  it('fails the invocations of a function whose INIT reads configuration the template does not give it', async () => {
    // Another function of the deployment has the variable: it must not leak into the other's environment.
    const lambdas = await started([fn('Given', { FIXTURE_TABLE_NAME: 'T' }), fn('NotGiven', {})]);
    expect(await lambdas.invoke('Given', {})).toMatchObject({ table: 'T' });
    const error = (await lambdas.invoke('NotGiven', {}).catch((e: unknown) => e)) as LambdaInvocationError;
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error.functionError.errorMessage).toMatch(/Missing required environment variable FIXTURE_TABLE_NAME/);
  });

  it('invokes by ARN or name with a JSON copy of the event and reports errors as Lambda does', async () => {
    const lambdas = await started([fn('Reader', { FIXTURE_TABLE_NAME: 'Orders' })]);
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
    const lambdas = await started([fn('Consumer', { FIXTURE_TABLE_NAME: 'Orders' })]);
    await lambdas.invokeAsync('Consumer', { key: 'twice', failTimes: 2 }, [10, 10]);
    expect(await lambdas.invoke('Consumer', { key: 'twice' })).toEqual({ table: 'Orders', calls: 4 });
    await expect(lambdas.invokeAsync('Consumer', { key: 'always', failTimes: 9 }, [10, 10])).rejects.toThrow(
      /call 3 of always fails/,
    );
  });

  it('stops retrying failed asynchronous invocations once the runtime stops', async () => {
    const lambdas = await started([fn('Consumer', { FIXTURE_TABLE_NAME: 'Orders' })]);
    const delivery = lambdas.invokeAsync('Consumer', { key: 'stopping', failTimes: 1 }, [50]);
    lambdas.stop();
    // The failure is not retried (the event goes with the runtime): the next call is only the second.
    await expect(delivery).rejects.toThrow(/call 1 of stopping fails/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lambdas.invoke('Consumer', { key: 'stopping' })).toEqual({ table: 'Orders', calls: 2 });
  });

  it('gives every function its own variables and module state, and leaves the host process.env alone', async () => {
    const before = { ...process.env };
    const lambdas = await started([probe('Alpha'), probe('Beta'), fn('A', { X: '1' }), fn('B', { X: '2' })]);
    const alpha = (await lambdas.invoke('Alpha', { leak: true })) as Probe;
    const beta = (await lambdas.invoke('Beta', {})) as Probe;
    expect(alpha).toMatchObject({ variable: 'Alpha', leaked: 'yes', invocations: 1 });
    // A variable one function sets is its own; module state is per function.
    expect(beta).toMatchObject({ variable: 'Beta', leaked: null, invocations: 1 });
    expect(beta.environmentId).not.toBe(alpha.environmentId);
    expect(process.env).toEqual(before);
    // Two functions may set one variable differently: it is theirs alone, so the shared view leaves it out.
    expect(lambdas.environment()).not.toHaveProperty('X');
  });

  it('keeps V8’s compiled code of a bundle beside its build, written at INIT; a later cold start reads it', async () => {
    type Compiled = { compileCacheDir: string | null; environmentId: string };
    const first = (await (await started([probe('Compiled')])).invoke('Compiled', {})) as Compiled;
    const dir = first.compileCacheDir as string;
    expect(dir).toContain(join(ROOT_DIR, 'node_modules/.cache/sales-orders/functions/'));
    // Another cold start of the same bundle, with no entry yet: it writes one at the end of its INIT, while warm.
    rmSync(dir, { recursive: true, force: true });
    const second = (await (await started([probe('Compiled')])).invoke('Compiled', {})) as Compiled;
    expect(second.environmentId).not.toBe(first.environmentId);
    const entries = readdirSync(dir).map((name) => join(dir, name));
    expect(entries.length).toBeGreaterThan(0);
    const written = entries.map((file) => [file, statSync(file).mtimeMs, statSync(file).ino]);
    // A third cold start finds the entry good and uses it: Node rewrites an entry only when it compiled anew.
    const third = (await (await started([probe('Compiled')])).invoke('Compiled', {})) as Compiled;
    expect(third.environmentId).not.toBe(second.environmentId);
    expect(entries.map((file) => [file, statSync(file).mtimeMs, statSync(file).ino])).toEqual(written);
  });

  it('reuses a warm environment, and starts another only for invocations at the same time', async () => {
    const lambdas = await started([probe('Warm')], { maxEnvironments: 2 });
    const first = (await lambdas.invoke('Warm', {})) as Probe;
    const second = (await lambdas.invoke('Warm', {})) as Probe;
    expect(second).toMatchObject({ environmentId: first.environmentId, invocations: 2 });
    const together = (await Promise.all([
      lambdas.invoke('Warm', { sleepMs: 100 }),
      lambdas.invoke('Warm', { sleepMs: 100 }),
    ])) as Probe[];
    expect(new Set(together.map((p) => p.environmentId)).size).toBe(2);
    expect(lambdas.environmentCounts()).toEqual({ Warm: { warm: 2, busy: 0 } });
  });

  it('runs at most maxEnvironments environments per function; more invocations wait for one', async () => {
    const lambdas = await started([probe('Capped')], { maxEnvironments: 2 });
    const results = (await Promise.all(
      Array.from({ length: 6 }, () => lambdas.invoke('Capped', { sleepMs: 50 })),
    )) as Probe[];
    expect(new Set(results.map((p) => p.environmentId)).size).toBe(2);
    expect(lambdas.environmentCounts()).toEqual({ Capped: { warm: 2, busy: 0 } });
  });

  it('keeps to the budget of environments: the least recently used idle one without pending work makes room', async () => {
    const lambdas = await started([probe('One'), probe('Two'), probe('Three')], { maxTotalEnvironments: 2 });
    // One leaves a timer pending (as the sandbox carrier's delayed reports): it must not be reclaimed.
    const one = (await lambdas.invoke('One', { later: 'one-later', laterMs: 1_500 })) as Probe;
    const two = (await lambdas.invoke('Two', {})) as Probe;
    await lambdas.invoke('Three', {});
    expect(lambdas.environmentCounts()).toEqual({ One: { warm: 1, busy: 0 }, Three: { warm: 1, busy: 0 } });
    expect(((await lambdas.invoke('One', {})) as Probe).environmentId).toBe(one.environmentId);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect(sandboxState('fixture-marks', () => new Set<string>()).has('one-later')).toBe(true);
    // Two was reclaimed: its next invocation is a cold start.
    expect(((await lambdas.invoke('Two', {})) as Probe).environmentId).not.toBe(two.environmentId);
  });

  it('wakes an invocation that waited for its function while that function’s environment was reclaimed', async () => {
    const lambdas = await started([probe('First'), probe('Second')], { maxEnvironments: 1, maxTotalEnvironments: 1 });
    await lambdas.invoke('First', {});
    const second = lambdas.invoke('Second', {}); // reclaims First's environment
    const first = lambdas.invoke('First', {}); // waits for First's only environment meanwhile
    await expect(Promise.all([second, first])).resolves.toHaveLength(2);
  });

  it('forgets an environment that died while idle, and runs the next invocation in a new one', async () => {
    const lambdas = await started([probe('Fragile', { timeoutSeconds: 5 })]);
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const before = (await lambdas.invoke('Fragile', { crashLaterMs: 20 })) as Probe;
      await new Promise((resolve) => setTimeout(resolve, 200));
      const since = Date.now();
      const after = (await lambdas.invoke('Fragile', {})) as Probe;
      expect(after.environmentId).not.toBe(before.environmentId);
      expect(Date.now() - since).toBeLessThan(3_000);
      expect(errors).toHaveBeenCalledWith(expect.stringMatching(/Fragile: an execution environment stopped/));
    } finally {
      errors.mockRestore();
    }
  });

  it('hands the shared books on when an environment waiting for them is stopped', async () => {
    const lambdas = await started([probe('Holder'), probe('Short', { timeoutSeconds: 1 }), probe('Later')]);
    const holder = lambdas.invoke('Holder', { count: 'held', holdMs: 2_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Short waits for the books behind Holder and times out: its place in the queue must go with it.
    await expect(lambdas.invoke('Short', { count: 'held' })).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    await holder;
    await expect(lambdas.invoke('Later', { count: 'held' })).resolves.toMatchObject({ counted: 2 });
  });

  it('stops every environment on close, even one whose pending work was being checked', async () => {
    const lambdas = await started([probe('Pending'), probe('Other')], { maxTotalEnvironments: 1 });
    await lambdas.invoke('Pending', { later: 'pending-mark', laterMs: 2_000 });
    const other = lambdas.invoke('Other', {}).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await lambdas.close();
    expect(await other).toMatchObject({ name: 'ServiceException' });
    expect(lambdas.environmentCounts()).toEqual({});
  });

  it('fails an invocation whose environment’s INIT does not finish in time, and stops that environment', async () => {
    const lambdas = await started([fn('Stuck', {}, { entry: 'test/fixtures/never-ready.ts' })], { initTimeoutMs: 500 });
    await expect(lambdas.invoke('Stuck', {})).rejects.toMatchObject({ name: 'Runtime.InitTimeout' });
    expect(lambdas.environmentCounts()).toEqual({});
  });

  it('throttles synchronous invocations beyond the reserved concurrency, as Lambda does', async () => {
    const lambdas = await started([probe('Reserved', { reservedConcurrency: 1 })]);
    const running = lambdas.invoke('Reserved', { sleepMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expect(lambdas.invoke('Reserved', {})).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    // An asynchronous invocation waits for the concurrency instead, as Lambda's event queue does.
    await expect(lambdas.invokeAsync('Reserved', {}, [])).resolves.toBeUndefined();
    await expect(running).resolves.toMatchObject({ invocations: 1 });
  });

  it('gives a function its reserved concurrency even above the default environments per function', async () => {
    const lambdas = await started([probe('Reserved2', { reservedConcurrency: 2 })], { maxEnvironments: 1 });
    const running = [lambdas.invoke('Reserved2', { sleepMs: 400 }), lambdas.invoke('Reserved2', { sleepMs: 400 })];
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lambdas.environmentCounts()).toEqual({ Reserved2: { warm: 0, busy: 2 } });
    await expect(lambdas.invoke('Reserved2', {})).rejects.toMatchObject({ name: 'TooManyRequestsException' });
    const results = (await Promise.all(running)) as Probe[];
    expect(new Set(results.map((p) => p.environmentId)).size).toBe(2);
  });

  it('tells the caller when an invocation gets its environment, after waiting for one', async () => {
    const lambdas = await started([probe('Single')], { maxEnvironments: 1 });
    const startedAt: number[] = [];
    const since = Date.now();
    const [first] = await Promise.all([
      lambdas.invoke('Single', { sleepMs: 300 }, () => startedAt.push(Date.now() - since)),
      lambdas.invoke('Single', {}, () => startedAt.push(Date.now() - since)),
    ]);
    expect(first).toMatchObject({ invocations: 1 });
    expect(startedAt).toHaveLength(2);
    // The second started only once the first had its 300 ms.
    expect(startedAt[1]).toBeGreaterThanOrEqual((startedAt[0] ?? 0) + 250);
  });

  it('runs every function but the foreground ones (the order intake) at a lower CPU priority', async () => {
    const intake = probe('Intake');
    const lambdas = await started([intake, probe('Poll'), probe('Stage')], {
      foreground: new Set([intake.arn]),
      interactive: new Set([intake.arn, probe('Poll').arn]),
    });
    const own = getPriority(); // the test run's own niceness, which threads inherit
    expect(await lambdas.invoke('Intake', {})).toMatchObject({ nice: own });
    expect(await lambdas.invoke('Poll', {})).toMatchObject({ nice: Math.min(19, own + BACKGROUND_NICE) });
    expect(await lambdas.invoke('Stage', {})).toMatchObject({ nice: Math.min(19, own + BACKGROUND_NICE) });
    // Without a foreground list, every environment runs at the runtime's priority.
    const plain = await started([probe('Plain')]);
    expect(await plain.invoke('Plain', {})).toMatchObject({ nice: own });
  });

  it("names the API's order-taking routes as the runtime's foreground", () => {
    for (const route of INTAKE_ROUTES) expect(Object.keys(ROUTE_ACCESS)).toContain(route);
  });

  it('gives the interactive functions (a caller waits on each call) twice the environments of the others', async () => {
    const capped = await started([probe('Route'), probe('Step')], {
      interactive: new Set([probe('Route').arn]),
      maxEnvironments: 1,
    });
    const calls = (name: string) =>
      Promise.all(Array.from({ length: 3 }, () => capped.invoke(name, { sleepMs: 100 }))) as Promise<Probe[]>;
    expect(new Set((await calls('Route')).map((p) => p.environmentId)).size).toBe(2);
    expect(new Set((await calls('Step')).map((p) => p.environmentId)).size).toBe(1);
  });

  it('lets the order intake scale out to INTAKE_ENVIRONMENTS environments, starting one only when all are busy', async () => {
    const intake = probe('Intake');
    const capped = await started([intake], {
      foreground: new Set([intake.arn]),
      interactive: new Set([intake.arn]),
      maxEnvironments: 1,
    });
    const calls = (count: number) =>
      Promise.all(Array.from({ length: count }, () => capped.invoke('Intake', { sleepMs: 300 }))) as Promise<Probe[]>;
    const environments = async (count: number) => new Set((await calls(count)).map((p) => p.environmentId)).size;
    // One at a time: the warm environment takes each.
    for (let i = 0; i < 3; i++) await calls(1);
    expect(capped.coldStarts).toBe(1);
    expect(await environments(INTAKE_ENVIRONMENTS + 2)).toBe(INTAKE_ENVIRONMENTS);
  });

  it('stops an invocation that runs past its timeout, and its environment with it', async () => {
    const lambdas = await started([probe('Slow', { timeoutSeconds: 1 })]);
    const before = (await lambdas.invoke('Slow', {})) as Probe;
    const since = Date.now();
    await expect(lambdas.invoke('Slow', { spin: true })).rejects.toMatchObject({ name: 'Sandbox.Timedout' });
    expect(Date.now() - since).toBeLessThan(5_000);
    // The spinning thread is gone: the next invocation gets a fresh environment (a cold start).
    const after = (await lambdas.invoke('Slow', {})) as Probe;
    expect(after.environmentId).not.toBe(before.environmentId);
    expect(after.invocations).toBe(1);
  });

  it('shares the sandbox providers’ books and the clock offset between environments, one section at a time', async () => {
    const lambdas = await started([probe('Counter'), probe('Marker')]);
    // 20 read-modify-writes from several environments at once: none is lost.
    await Promise.all(Array.from({ length: 20 }, () => lambdas.invoke('Counter', { count: 'k', sleepMs: 5 })));
    expect(sandboxState('fixture-books', () => new Map<string, number>()).get('k')).toBe(20);
    expect(await lambdas.invoke('Marker', { mark: 'm' })).toMatchObject({ marked: true });
    expect(sandboxState('fixture-marks', () => new Set<string>()).has('m')).toBe(true);
    shiftClock(3_600_000);
    try {
      expect(await lambdas.invoke('Counter', {})).toMatchObject({ clockOffsetMs: 3_600_000 });
    } finally {
      shiftClock(0);
    }
    expect(await lambdas.invoke('Counter', {})).toMatchObject({ clockOffsetMs: 0 });
  });
});
