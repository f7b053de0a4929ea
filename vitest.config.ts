import { defineConfig } from 'vitest/config';

// Unit, parity, integration and crash tests. Interop tests (Debian clients, Java) live in
// vitest.interop.config.ts so `npm test` needs nothing but Node.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/interop/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
