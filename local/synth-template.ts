import { synthTemplate } from '../infra/build.ts';

// Prints the deployment's template (no bundling) as JSON, for local/synth.ts.
process.stdout.write(JSON.stringify(synthTemplate()));
