// Runs the `godel` command from source, without a build: `node --import tsx ts/cli/run.ts serve …`
// (the test helpers start brokers this way). bin/godel.js is the launcher for the compiled CLI.
import { main } from './main.js';

await main(process.argv);
