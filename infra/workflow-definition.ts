import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The single definition of the order workflow, shared by the stack (constructs/workflow.ts) and the local runtime. */
export const WORKFLOW_DEFINITION_FILE = fileURLToPath(
  new URL('../statemachines/order-workflow.asl.json', import.meta.url),
);

/** The `${<Task>FunctionArn}` placeholders of the definition, i.e. which functions it needs. */
export function workflowPlaceholders(definition = readFileSync(WORKFLOW_DEFINITION_FILE, 'utf8')): string[] {
  return [...new Set([...definition.matchAll(/\$\{(\w+)FunctionArn\}/g)].map((match) => match[1] as string))].sort();
}
