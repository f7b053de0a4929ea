#!/usr/bin/env node
// The `godel` command: a thin launcher for the compiled CLI in dist/.
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`godel: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
