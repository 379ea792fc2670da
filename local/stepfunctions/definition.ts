import type { StateMachineDefinition } from 'aws-local-stepfunctions';

/**
 * Start-up analysis of an ASL definition for the local Step Functions runtime: which Task
 * states exist, which Lambda integration each one uses, and the variant of the definition the
 * embedded interpreter actually runs.
 */

export type TaskKind = 'lambda-invoke' | 'lambda-invoke-callback' | 'lambda-function';

export interface TaskSpec {
  stateName: string;
  kind: TaskKind;
  /** The Resource field as written in the definition. */
  resource: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

export interface TaskTimeoutOverride {
  timeoutMs?: number;
  heartbeatMs?: number;
}

export interface AnalyzedDefinition {
  /** The definition as written: used for validation and DescribeStateMachine. */
  original: StateMachineDefinition;
  /** The definition handed to the interpreter (Task timeouts taken over by the service). */
  runnable: StateMachineDefinition;
  tasks: Map<string, TaskSpec>;
}

type StateNode = Record<string, unknown>;
type States = Record<string, StateNode>;

/**
 * The interpreter applies a 60 s default to every Task and cannot see heartbeats or callback
 * tokens, so the service enforces Task timeouts itself. Task states get this ceiling instead:
 * it stays below the 2^31 ms limit of setTimeout, above which Node would fire immediately.
 */
const INTERPRETER_TIMEOUT_CEILING_SECONDS = 2_000_000;

const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:lambda:invoke$/;
const LAMBDA_INVOKE_CALLBACK = /^arn:aws[a-z-]*:states:[^:]*:[^:]*:lambda:invoke\.waitForTaskToken$/;
const LAMBDA_FUNCTION = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

export function classifyResource(resource: string): TaskKind | undefined {
  if (LAMBDA_INVOKE.test(resource)) return 'lambda-invoke';
  if (LAMBDA_INVOKE_CALLBACK.test(resource)) return 'lambda-invoke-callback';
  if (LAMBDA_FUNCTION.test(resource)) return 'lambda-function';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sub-state-machines of Map (ItemProcessor / Iterator) and Parallel (Branches) states. */
function nestedStates(state: StateNode): States[] {
  const nested: unknown[] = [];
  if (state.Type === 'Map') nested.push(state.ItemProcessor ?? state.Iterator);
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) nested.push(...state.Branches);
  return nested.filter(isObject).map((machine) => (isObject(machine.States) ? (machine.States as States) : {}));
}

/** Visits every state, nested ones included, in definition order. */
export function forEachState(states: States, visit: (name: string, state: StateNode) => void): void {
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    visit(name, state);
    for (const inner of nestedStates(state)) forEachState(inner, visit);
  }
}

function positiveNumber(value: unknown): number | undefined {
  return typeof value === 'number' && value > 0 ? value : undefined;
}

function describeTask(machineName: string, name: string, state: StateNode): TaskSpec {
  const resource = typeof state.Resource === 'string' ? state.Resource : '';
  const kind = classifyResource(resource);
  if (!kind) {
    throw new Error(
      `State machine "${machineName}": Task state "${name}" uses Resource "${resource}", which the local runtime ` +
        'does not support (only arn:aws:states:::lambda:invoke, lambda:invoke.waitForTaskToken and Lambda function ARNs)',
    );
  }
  return {
    stateName: name,
    kind,
    resource,
    timeoutSeconds: positiveNumber(state.TimeoutSeconds),
    heartbeatSeconds: positiveNumber(state.HeartbeatSeconds),
  };
}

/**
 * Where the interpreter finds a TimeoutSecondsPath's value: it evaluates the path against the
 * input after Parameters, while AWS evaluates it against the state input. The value is carried
 * through Parameters under this key and removed again before the task runs (lambda-tasks.ts).
 */
export const CARRIED_TIMEOUT_KEY = 'LocalRuntimeTimeoutSeconds';

/**
 * Task states keep TimeoutSecondsPath for the interpreter to evaluate (the service only sees the
 * processed input), unless a test override replaces the timeout.
 */
function takeOverTimeouts(states: States, overrides: Record<string, TaskTimeoutOverride>): void {
  forEachState(states, (name, state) => {
    if (state.Type !== 'Task') return;
    if (state.TimeoutSecondsPath !== undefined && overrides[name]?.timeoutMs === undefined) {
      if (isObject(state.Parameters)) {
        state.Parameters = { ...state.Parameters, [`${CARRIED_TIMEOUT_KEY}.$`]: state.TimeoutSecondsPath };
        state.TimeoutSecondsPath = `$.${CARRIED_TIMEOUT_KEY}`;
      }
      return;
    }
    delete state.TimeoutSecondsPath;
    state.TimeoutSeconds = INTERPRETER_TIMEOUT_CEILING_SECONDS;
  });
}

export function analyzeDefinition(
  machineName: string,
  definitionText: string,
  timeoutOverrides: Record<string, TaskTimeoutOverride> = {},
): AnalyzedDefinition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(definitionText);
  } catch (error) {
    throw new Error(`State machine "${machineName}": definition is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(parsed) || !isObject(parsed.States)) {
    throw new Error(`State machine "${machineName}": definition has no States`);
  }
  const seen = new Set<string>();
  const tasks = new Map<string, TaskSpec>();
  forEachState(parsed.States as States, (name, state) => {
    // The interpreter resolves local Task handlers by state name only.
    if (seen.has(name)) {
      throw new Error(`State machine "${machineName}": state name "${name}" is used more than once`);
    }
    seen.add(name);
    if (state.Type === 'Task') tasks.set(name, describeTask(machineName, name, state));
  });
  const runnable = structuredClone(parsed) as { States: States };
  takeOverTimeouts(runnable.States, timeoutOverrides);
  return {
    original: parsed as unknown as StateMachineDefinition,
    runnable: runnable as unknown as StateMachineDefinition,
    tasks,
  };
}
