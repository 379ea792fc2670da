import * as errors from '../../functions/core/errors.ts';

/** Names of the DomainError subclasses core/errors.ts exports, sorted (a module namespace lists its exports so). */
export function domainErrorNames(): string[] {
  return domainErrorClasses().map(([exported]) => exported);
}

/** The DomainError subclasses core/errors.ts exports, by their export name. */
export function domainErrorClasses(): [string, new (...args: never[]) => Error][] {
  const exported: [string, unknown][] = Object.entries(errors);
  return exported.filter(
    (entry): entry is [string, new (...args: never[]) => Error] =>
      typeof entry[1] === 'function' && entry[1].prototype instanceof errors.DomainError,
  );
}

export interface AslState {
  Type: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number; [key: string]: unknown }[];
  Branches?: { States: Record<string, AslState> }[];
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  [key: string]: unknown;
}

/** Every Task state of a definition, also those inside Parallel branches and Map item processors. */
export function taskStates(states: Record<string, AslState>, path = ''): [string, AslState][] {
  return Object.entries(states).flatMap(([name, state]): [string, AslState][] => {
    const at = `${path}${name}`;
    if (state.Type === 'Task') return [[at, state]];
    if (state.Type === 'Parallel')
      return (state.Branches ?? []).flatMap((branch, i) => taskStates(branch.States, `${at}[${i}]/`));
    if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      return processor ? taskStates(processor.States, `${at}/`) : [];
    }
    return [];
  });
}
