/**
 * A character-level corpus for language-model examples: a text that ships with every
 * Debian system (the GPL-3), its character vocabulary, and batches of (context, next
 * characters) windows drawn from a seeded stream, so runs are reproducible.
 */

import { readFileSync } from 'node:fs';

export const DEFAULT_TEXT = process.env['KILN_TEXT'] ?? '/usr/share/common-licenses/GPL-3';

export interface CharCorpus {
  readonly text: string;
  /** The distinct characters, sorted; a character's id is its index here. */
  readonly vocab: readonly string[];
  /** The text as character ids. */
  readonly ids: Int32Array;
}

export function loadCharCorpus(path = DEFAULT_TEXT): CharCorpus {
  // Runs of whitespace carry no language: folding them keeps the model on the words.
  const text = readFileSync(path, 'utf8').replace(/[ \t]+/g, ' ').replace(/\n{3,}/g, '\n\n');
  const vocab = [...new Set(text)].sort();
  const idOf = new Map(vocab.map((c, i) => [c, i]));
  return { text, vocab, ids: Int32Array.from(text, (c) => idOf.get(c)!) };
}

/** Splits the ids into a training part and a held-out tail (`fraction` of the text). */
export function splitCorpus(corpus: CharCorpus, fraction = 0.1): { train: Int32Array; heldOut: Int32Array } {
  const cut = Math.floor(corpus.ids.length * (1 - fraction));
  return { train: corpus.ids.subarray(0, cut), heldOut: corpus.ids.subarray(cut) };
}

/** The entropy (nats per character) of the unigram distribution of `ids`: the loss of a model that ignores context. */
export function unigramEntropy(ids: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (const id of ids) counts[id]! += 1;
  let entropy = 0;
  for (const count of counts) {
    if (count > 0) {
      const p = count / ids.length;
      entropy -= p * Math.log(p);
    }
  }
  return entropy;
}

/** Windows of `context` ids and the ids that follow each position (targets shifted by one). */
export interface TextBatch {
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
}

/** A batch of `size` windows starting at positions drawn by `random` (uniform in [0, 1)). */
export function textBatch(ids: Int32Array, size: number, context: number, random: () => number): TextBatch {
  if (ids.length <= context) throw new RangeError(`textBatch: the text (${ids.length} characters) is not longer than the context (${context}).`);
  const tokens = new Int32Array(size * context);
  const targets = new Int32Array(size * context);
  for (let b = 0; b < size; b++) {
    const start = Math.floor(random() * (ids.length - context - 1));
    tokens.set(ids.subarray(start, start + context), b * context);
    targets.set(ids.subarray(start + 1, start + context + 1), b * context);
  }
  return { tokens, targets };
}
