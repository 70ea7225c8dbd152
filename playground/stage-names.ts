/**
 * The compiler stages the Stages tab shows, named once: the page's select (stage-view.ts), the
 * worker's `stages` method (protocol.ts, worker/stages.ts) and share links read them from here.
 * Plain data, so the worker and the protocol import no page module.
 */

export const STAGE_VIEWS = [
  { stage: 'written', label: 'as written, with gradients and updates' },
  { stage: 'specialized', label: 'modes specialized (train / eval)' },
  { stage: 'simplified', label: 'simplified: the graph the kernels compute' },
  { stage: 'fusion', label: 'fusion groups, with the rule of each' },
  { stage: 'fused', label: 'fused kernels' },
  { stage: 'unfused', label: 'unfused kernels: one per op' },
] as const;

export type StageView = (typeof STAGE_VIEWS)[number]['stage'];

export function isStageView(text: string | undefined): text is StageView {
  return STAGE_VIEWS.some(({ stage }) => stage === text);
}
