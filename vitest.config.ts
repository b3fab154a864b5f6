import { defineConfig } from 'vitest/config';

// Node.js reads and parses the NODE_EXTRA_CA_CERTS bundle at every start, before any script
// runs (≈ 40 ms a process where a sandbox sets it for npm's proxy). The suite starts node
// hundreds of times (its workers, the CLI, the agent) and makes no TLS connection, so its
// processes are started without it: tests/cli ran in 52 s instead of 62 s.
delete process.env.NODE_EXTRA_CA_CERTS;

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests spawn tshark and node: two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default', './tests/support/summary-reporter.ts'],
  },
});
