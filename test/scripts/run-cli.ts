/** Runs `kiln` (scripts/kiln-cli.ts's main) in-process for the CLI tests, capturing what it writes. */

import { main } from '../../scripts/kiln-cli.js';

export async function cli(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const status = await main(args, { write: (text: string) => (out += text) }, { write: (text: string) => (err += text) });
  return { status, out, err };
}
