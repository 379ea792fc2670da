import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { SANDBOX_HOST, sandboxState } from '../functions/adapters/sandbox-state.ts';

/*
 * What the functions' execution environments share through the runtime rather than memory: the
 * sandbox providers' books (functions/adapters/sandbox-state.ts: a remote provider's state, one copy
 * for every caller) and the tests' clock offset (functions/lib/deps.ts). The runtime's thread holds
 * the one copy; an environment reaches it with synchronous calls, so the adapters' code is the code
 * that runs in Lambda.
 */

/** The handlers' clock offset in ms (functions/lib/deps.ts), one per process, readable by every thread. */
const CLOCK_OFFSET = Symbol.for('sales-orders.clock-offset-ms');
const clockOffset = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);

/** On the runtime's thread: the clock offset tests set (`globalThis[CLOCK_OFFSET] = ms`) lands in the shared cell. */
export function shareClock(): SharedArrayBuffer {
  const cell = new Float64Array(clockOffset);
  const store = globalThis as Record<symbol, unknown>;
  const descriptor = Object.getOwnPropertyDescriptor(store, CLOCK_OFFSET);
  if (!descriptor?.set) {
    cell[0] = Number(store[CLOCK_OFFSET] ?? 0);
    Object.defineProperty(store, CLOCK_OFFSET, {
      configurable: true,
      get: () => cell[0],
      set: (ms: unknown) => {
        cell[0] = Number(ms ?? 0);
      },
    });
  }
  return clockOffset;
}

/** In an execution environment: the handlers' clock reads the runtime's offset. */
export function useSharedClock(buffer: SharedArrayBuffer): void {
  const cell = new Float64Array(buffer);
  Object.defineProperty(globalThis, CLOCK_OFFSET, { configurable: true, get: () => cell[0] });
}

type Operation = 'get' | 'set' | 'has' | 'delete' | 'add' | 'clear' | 'size' | 'keys' | 'values' | 'entries';
type CallRequest = { name: string; kind: 'Map' | 'Set'; op: Operation; args: unknown[] };
type Request = CallRequest | { op: 'release' };
type Reply = { value: unknown } | { error: string };

/** What an execution environment is given to reach the shared state. */
export interface SharedStateLink {
  port: MessagePort;
  /** Set to 1 by the runtime when its reply is on the port. */
  signal: SharedArrayBuffer;
}

/**
 * The runtime's side: holds the sandboxes' collections and answers the environments' calls. A call
 * runs as part of its environment's section (the synchronous run of code that made it, as a
 * read-modify-write of the books is in the adapters): another environment's calls wait until the
 * section ends, so two environments never interleave inside one, as calls in one thread never do.
 */
class SharedStateHost {
  private owner: MessagePort | undefined;
  private readonly waiting: { port: MessagePort; signal: Int32Array; request: CallRequest }[] = [];

  /** A link for one environment, and the function that ends it (the environment stopped). */
  connect(): { link: SharedStateLink; close(): void } {
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const view = new Int32Array(signal);
    port1.on('message', (request: Request) => this.receive(port1, view, request));
    port1.unref();
    return {
      link: { port: port2, signal },
      close: () => {
        port1.close();
        // A stopped environment neither waits for the books nor holds them any more.
        for (let at = this.waiting.findIndex((w) => w.port === port1); at >= 0; ) {
          this.waiting.splice(at, 1);
          at = this.waiting.findIndex((w) => w.port === port1);
        }
        if (this.owner === port1) this.release();
      },
    };
  }

  private receive(port: MessagePort, signal: Int32Array, request: Request): void {
    if (request.op === 'release') {
      if (this.owner === port) this.release();
      return;
    }
    if (this.owner && this.owner !== port) {
      this.waiting.push({ port, signal, request });
      return;
    }
    this.owner = port;
    answer(port, signal, request);
  }

  private release(): void {
    this.owner = undefined;
    const next = this.waiting.shift();
    if (!next) return;
    this.owner = next.port;
    answer(next.port, next.signal, next.request);
  }
}

/** The process's one host: the sandboxes' state is the process's, whichever runtime's environments call. */
export const sharedState = new SharedStateHost();

function answer(port: MessagePort, signal: Int32Array, request: CallRequest): void {
  let reply: Reply;
  try {
    reply = { value: apply(request) };
  } catch (error) {
    reply = { error: (error as Error).message };
  }
  port.postMessage(reply);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
}

function apply({ name, kind, op, args }: CallRequest): unknown {
  const target = sandboxState<Map<unknown, unknown> | Set<unknown>>(name, () =>
    kind === 'Set' ? new Set() : new Map(),
  );
  const map = target as Map<unknown, unknown>;
  const set = target as Set<unknown>;
  switch (op) {
    case 'get':
      return map.get(args[0]);
    case 'set':
      map.set(args[0], args[1]);
      return undefined;
    case 'add':
      set.add(args[0]);
      return undefined;
    case 'has':
      return target.has(args[0]);
    case 'delete':
      return target.delete(args[0]);
    case 'clear':
      target.clear();
      return undefined;
    case 'size':
      return target.size;
    case 'keys':
      return [...target.keys()];
    case 'values':
      return [...target.values()];
    case 'entries':
      return [...target.entries()];
  }
}

/**
 * In an execution environment: sandbox state (`sandboxState`) is reached through the runtime. Each
 * call blocks until the runtime answers; the first call of a section claims the books until the
 * section ends (a microtask after it).
 */
export function useSharedState(link: SharedStateLink): void {
  const signal = new Int32Array(link.signal);
  let inSection = false;
  const call = (name: string, kind: 'Map' | 'Set', op: Operation, args: unknown[] = []): unknown => {
    if (!inSection) {
      inSection = true;
      queueMicrotask(() => {
        inSection = false;
        link.port.postMessage({ op: 'release' } satisfies Request);
      });
    }
    Atomics.store(signal, 0, 0);
    link.port.postMessage({ name, kind, op, args } satisfies Request);
    Atomics.wait(signal, 0, 0);
    const reply = receiveMessageOnPort(link.port)?.message as Reply | undefined;
    if (!reply) throw new Error(`Shared sandbox state ${name}: no answer from the runtime`);
    if ('error' in reply) throw new Error(`Shared sandbox state ${name}: ${reply.error}`);
    return reply.value;
  };
  (globalThis as Record<symbol, unknown>)[SANDBOX_HOST] = (name: string, initial: unknown) =>
    initial instanceof Set ? new SharedSet(name, call) : new SharedMap(name, call);
}

type Call = (name: string, kind: 'Map' | 'Set', op: Operation, args?: unknown[]) => unknown;

/** The parts of Map the sandboxes use, on the runtime's copy. */
class SharedMap<K, V> {
  constructor(
    private readonly name: string,
    private readonly call: Call,
  ) {}
  get = (key: K) => this.call(this.name, 'Map', 'get', [key]) as V | undefined;
  set = (key: K, value: V) => {
    this.call(this.name, 'Map', 'set', [key, value]);
    return this;
  };
  has = (key: K) => this.call(this.name, 'Map', 'has', [key]) as boolean;
  delete = (key: K) => this.call(this.name, 'Map', 'delete', [key]) as boolean;
  clear = () => void this.call(this.name, 'Map', 'clear');
  get size() {
    return this.call(this.name, 'Map', 'size') as number;
  }
  keys = () => (this.call(this.name, 'Map', 'keys') as K[])[Symbol.iterator]();
  values = () => (this.call(this.name, 'Map', 'values') as V[])[Symbol.iterator]();
  entries = () => (this.call(this.name, 'Map', 'entries') as [K, V][])[Symbol.iterator]();
  [Symbol.iterator] = () => this.entries();
}

/** The parts of Set the sandboxes use, on the runtime's copy. */
class SharedSet<T> {
  constructor(
    private readonly name: string,
    private readonly call: Call,
  ) {}
  add = (value: T) => {
    this.call(this.name, 'Set', 'add', [value]);
    return this;
  };
  has = (value: T) => this.call(this.name, 'Set', 'has', [value]) as boolean;
  delete = (value: T) => this.call(this.name, 'Set', 'delete', [value]) as boolean;
  clear = () => void this.call(this.name, 'Set', 'clear');
  get size() {
    return this.call(this.name, 'Set', 'size') as number;
  }
  values = () => (this.call(this.name, 'Set', 'values') as T[])[Symbol.iterator]();
  [Symbol.iterator] = () => this.values();
}
