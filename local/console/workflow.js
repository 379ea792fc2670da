/**
 * An execution's path through the state machine, as the Step Functions console colours its graph:
 * from the definition (states, with a Map's or Parallel's inner states nested) and the execution
 * history (GetExecutionHistory events). Pure functions, no DOM.
 */

/** The states of a definition in their written order: `[{ name, type, children }]`. */
export function stateTree(definition) {
  return Object.entries(definition.States ?? {}).map(([name, state]) => {
    const inner = [state.ItemProcessor ?? state.Iterator, ...(state.Branches ?? [])].filter(Boolean);
    return { name, type: state.Type, children: inner.flatMap(stateTree) };
  });
}

const TASK_FAILURE = /^(Task|LambdaFunction|Activity)(Failed|TimedOut|StartFailed|ScheduleFailed|SubmitFailed)$/;
const SCHEDULED = /^(Task|LambdaFunction|Activity)Scheduled$/;
const BRANCHES_FAILED = /^(Map|Parallel)StateFailed$/;
const EXECUTION_END = /^Execution(Failed|TimedOut|Aborted)$/;

/**
 * Each visited state's status: `running` (entered, not left), `succeeded`, `caught` (failed, and a
 * Catch took the execution on) or `failed`. A retry (scheduled again) runs the state anew; a state
 * entered again (a loop) shows its latest visit. States never entered are absent. Task events carry
 * no state name: they belong to the innermost Task entered and not left.
 */
export function stateStatuses(events) {
  const status = new Map();
  const open = []; // { name, kind }: entered and not left, innermost last
  const innermost = (kind) => open.findLastIndex((state) => state.kind === kind);
  for (const event of events) {
    const { type } = event;
    const task = open[innermost('Task')]?.name;
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails.name;
      status.set(name, type === 'FailStateEntered' ? 'failed' : 'running');
      open.push({ name, kind: type.replace('StateEntered', '') });
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails.name;
      status.set(name, status.get(name) === 'failed' ? 'caught' : 'succeeded');
      const at = open.findLastIndex((state) => state.name === name);
      if (at >= 0) open.splice(at, 1);
    } else if (TASK_FAILURE.test(type) && task) {
      status.set(task, 'failed');
    } else if (SCHEDULED.test(type) && task && status.get(task) === 'failed') {
      status.set(task, 'running');
    } else if (BRANCHES_FAILED.test(type)) {
      const at = innermost(type.replace('StateFailed', ''));
      if (at < 0) continue;
      status.set(open[at].name, 'failed');
      open.splice(at + 1); // the inner states that failed it are over
    } else if (EXECUTION_END.test(type)) {
      for (const { name } of open) if (status.get(name) === 'running') status.set(name, 'failed');
    }
  }
  return status;
}
