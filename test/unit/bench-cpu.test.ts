import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { storageFloor } from '../bench/accept.ts';
import { cpuMeter, cpuPerOrder, dynamoDbLocalPid } from '../bench/cpu.ts';

describe('bench CPU accounting', () => {
  it('states CPU per order and the orders/s the cores allow at that cost', () => {
    const figures = cpuPerOrder({ seconds: 40, jvmCoreSeconds: 24, nodeCoreSeconds: 40, cores: 2 }, 200);
    expect(figures).toEqual({
      cores: 2,
      jvmCoresBusy: 0.6,
      nodeCoresBusy: 1,
      jvmCpuMsPerOrder: 120,
      nodeCpuMsPerOrder: 200,
      cpuBoundOrdersPerSecond: 6.3, // 2,000 core-ms a second / 320 ms an order
      jvmBoundOrdersPerSecond: 16.7, // 2,000 / 120
    });
    // No JVM measured (not Linux, or not found): no bound is stated, rather than an infinite one.
    expect(cpuPerOrder({ seconds: 40, jvmCoreSeconds: 0, nodeCoreSeconds: 40, cores: 2 }, 200)).not.toHaveProperty(
      'jvmBoundOrdersPerSecond',
    );
  });

  it('finds the JVM by its port and reads its CPU time', async () => {
    expect(dynamoDbLocalPid(1)).toBeUndefined();
    // A stand-in process whose command line reads like DynamoDB Local's, burning CPU for a moment.
    const child = spawn(process.execPath, [
      '-e',
      'const t = Date.now(); while (Date.now() - t < 5000);',
      'DynamoDBLocal.jar',
      '-port',
      '59999',
    ]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(dynamoDbLocalPid(59999)).toBe(child.pid);
      const stop = cpuMeter(child.pid);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const used = stop();
      expect(used.jvmCoreSeconds).toBeGreaterThan(0.05); // it spun for most of the half second
      expect(used.jvmCoreSeconds).toBeLessThanOrEqual(used.seconds + 0.02);
    } finally {
      child.kill();
    }
  });

  it('bounds the storage-floor ratio by the JVM work of one order, and by its storage calls alone', () => {
    const measured = {
      writes: 2000,
      seconds: 1.25,
      jvmCoreSeconds: 0.8,
      clientCoreSeconds: 1,
      jvmCoresBusyBefore: 0.01,
    };
    const orders = { completedPerSecond: 5, jvmCpuMsPerOrder: 120, cores: 2 };
    const floor = storageFloor(measured, { itemWrites: 71, requests: 80 }, orders);
    expect(floor.figures).toMatchObject({
      conditionalWritesPerSecond: 1600,
      jvmCoresBusyBeforeFloor: 0.01,
      jvmCpuMsPerFloorWrite: 0.4,
      floorOrdersPerSecond: 22.5,
      completedShareOfFloor: 0.22,
      jvmWorkPerOrderInFloorWrites: 300,
      jvmBoundOrdersPerSecond: 16.7,
      jvmBoundShareOfFloor: 0.74,
      clientCpuMsPerFloorWrite: 0.5,
      requestsPerHappyOrder: 80,
      storageCallsCpuMsPerOrder: 160, // the JVM's 120 + 80 requests at the client's 0.5 ms
      storageCallsBoundOrdersPerSecond: 12.5, // 2,000 core-ms a second / 160
      storageCallsBoundShareOfFloor: 0.55, // 12.5 / (1,600 / 71 = 22.54)
    });
    expect(floor.checks[0]?.[1]).toBe(false);
    // Without the order's request count (an older cost scenario, or metering that saw none) the JVM's bound
    // is stated, not the calls'.
    for (const order of [{ itemWrites: 71 }, { itemWrites: 71, requests: 0 }])
      expect(storageFloor(measured, order, orders).figures).not.toHaveProperty('storageCallsBoundOrdersPerSecond');
  });
});
