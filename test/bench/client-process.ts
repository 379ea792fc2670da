/**
 * A bench's load in a Node process of its own (flash-buyers.ts, accept-sender.ts): the clients' requests,
 * connections, timers and answers are the load, not the local runtime, whose latency, memory and CPU the
 * bench measures. Sharing the runtime's thread, the load generator both took the CPU the runtime needed
 * and waited behind the runtime's work to send and to read its answers.
 *
 * The parent sends the plan as the first IPC message; the child reports progress and sends its outcome
 * as the last message, then closes the channel.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ClientMessage<Progress, Outcome> =
  | { type: 'progress'; progress: Progress }
  | { type: 'done'; outcome: Outcome };

/** Runs `script` (a module that calls `serveClientProcess`) in a process of its own with `plan`. */
export function clientProcess<Plan, Progress, Outcome>(
  script: URL,
  plan: Plan,
  onProgress: (progress: Progress) => void,
): { pid: number | undefined; outcome: Promise<Outcome> } {
  const child = fork(fileURLToPath(script), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const outcome = new Promise<Outcome>((resolve, reject) => {
    child.on('message', (message: ClientMessage<Progress, Outcome>) => {
      if (message.type === 'done') resolve(message.outcome);
      else onProgress(message.progress);
    });
    // 'close', not 'exit': it comes once the IPC channel has delivered every message (a large outcome too).
    child.once('close', (code) =>
      reject(new Error(`${fileURLToPath(script)} ended (exit ${code}) before it reported`)),
    );
    child.once('error', reject);
  });
  child.send(plan as object);
  // Ended before reporting, or failed to start: a process left behind would go on loading the runtime.
  outcome.catch(() => child.kill());
  return { pid: child.pid, outcome };
}

/** The child's side: when `moduleUrl` is the process's main script, runs `run` on the plan it is sent. */
export function serveClientProcess<Plan, Progress, Outcome>(
  moduleUrl: string,
  run: (plan: Plan, report: (progress: Progress) => void) => Promise<Outcome>,
): void {
  if (!process.send || process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const report = (progress: Progress) =>
    process.send?.({ type: 'progress', progress } satisfies ClientMessage<Progress, Outcome>);
  process.once('message', (plan: Plan) => {
    run(plan, report).then(
      // An outcome can be large: the channel closes once it has gone out.
      (outcome) =>
        process.send?.({ type: 'done', outcome } satisfies ClientMessage<Progress, Outcome>, undefined, {}, () =>
          process.disconnect?.(),
        ),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
