#!/usr/bin/env node
// The `kiln` command (scripts/kiln-cli.ts). The compiler is TypeScript run from source,
// so the command loads it through tsx (a dev dependency): it runs in a checkout of the
// repository (`npx kiln inspect seed-mlp`), not from the published bundle.
import { register } from 'tsx/esm/api';

register();
// `kiln inspect seed-mlp | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
const { main } = await import('../scripts/kiln-cli.ts');
process.exitCode = await main(process.argv.slice(2));
