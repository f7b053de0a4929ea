// Compiles the broker once for the whole interop run; test files then start `bin/godel.js serve`.
import { buildBroker } from './build.js';

export default async function setup(): Promise<void> {
  await buildBroker();
  process.env.GODEL_INTEROP_BUILT = '1';
}
