#!/usr/bin/env node
// The `kiln` command (scripts/kiln-cli.ts). Installed from npm it runs the built CLI,
// dist/node/kiln-cli.js, which shares its modules with the package's Node entry. In a
// checkout (the TypeScript sources are next to it) it runs them through tsx, a dev
// dependency: so it never runs a stale build, and needs no `npm run build` first.
import { existsSync } from 'node:fs';

const source = new URL('../scripts/kiln-cli.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/node/kiln-cli.js');
}
// `kiln inspect seed-mlp | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await cli.main(process.argv.slice(2));
