/**
 * State a sandbox third party keeps on its side (authorizations, parcels): one copy per process,
 * shared by every function running in it, as a remote provider's books are shared by its callers.
 */
export function sandboxState<T>(name: string, create: () => T): T {
  const store = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(`sales-orders.sandbox.${name}`);
  if (!(key in store)) store[key] = create();
  return store[key] as T;
}
