/** Where a runtime that runs functions in several threads reaches the one copy of the sandboxes' state. */
export const SANDBOX_HOST = Symbol.for('sales-orders.sandbox-host');

/**
 * State a sandbox third party keeps on its side (authorizations, parcels): one copy shared by every
 * function that calls it, as a remote provider's books are shared by its callers. In a Lambda
 * environment that is the process's copy; the local runtime, whose functions run in execution
 * environments of their own, installs a host (`SANDBOX_HOST`) that gives every environment the
 * runtime's copy (local/shared-state.ts).
 */
export function sandboxState<T>(name: string, create: () => T): T {
  const store = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(`sales-orders.sandbox.${name}`);
  if (!(key in store)) {
    const host = store[SANDBOX_HOST] as ((name: string, initial: T) => T) | undefined;
    store[key] = host ? host(name, create()) : create();
  }
  return store[key] as T;
}
