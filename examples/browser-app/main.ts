/**
 * The page: loads Fashion-MNIST and compiles the model, trains it with a progress bar and
 * a live loss chart, classifies what the user draws or picks from the test set, and keeps
 * the weights in IndexedDB or a file. `?steps=N` sets the number of training steps.
 * `document.body.dataset.state` says where the page is (loading, ready, training, trained,
 * error), for tests.
 */

import type { Split } from './data.js';
import { CLASSES, PIXELS, batchOf, loadSplit, shuffled } from './data.js';
import { BATCH, classify, createClassifier, trainStep } from './model.js';
import { lossChart } from './chart.js';
import { sketchPad, thumbnail } from './sketch.js';
import { download, storeCheckpoint, storedCheckpoint } from './weights.js';

/** Test images scored after training (a multiple of the batch). */
const ACCURACY_IMAGES = 16 * BATCH;
const GALLERY_SIZE = 12;

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no <${type.name}> #${id}`);
  return found;
}

const ui = {
  device: element('device', HTMLElement),
  steps: element('steps', HTMLSelectElement),
  train: element('train', HTMLButtonElement),
  progress: element('progress', HTMLProgressElement),
  status: element('train-status', HTMLElement),
  loss: element('loss', HTMLElement),
  accuracy: element('accuracy', HTMLElement),
  prediction: element('prediction', HTMLElement),
  scores: element('scores', HTMLOListElement),
  gallery: element('gallery', HTMLElement),
  weightsStatus: element('weights-status', HTMLElement),
  weightButtons: ['save', 'restore', 'download', 'open'].map((id) => element(id, HTMLElement) as HTMLButtonElement | HTMLInputElement),
};
const chart = lossChart(element('loss-chart', HTMLCanvasElement));
const pad = sketchPad(element('sketch', HTMLCanvasElement), () => {
  truth = undefined;
  for (const picked of ui.gallery.querySelectorAll('.picked')) picked.classList.remove('picked');
  void showPrediction();
});
/** The true class of the image on the pad, when it came from the test set unchanged. */
let truth: number | undefined;
let stopRequested = false;

const requestedSteps = Number(new URLSearchParams(location.search).get('steps'));
if (Number.isInteger(requestedSteps) && requestedSteps > 0) {
  ui.steps.add(new Option(String(requestedSteps), String(requestedSteps), true, true));
}

function setState(state: 'loading' | 'ready' | 'training' | 'trained' | 'error'): void {
  document.body.dataset['state'] = state;
}

function fail(error: unknown): void {
  setState('error');
  ui.status.textContent = error instanceof Error ? error.message : String(error);
  ui.status.className = 'error';
  console.error(error);
}

const [train, test, classifier] = await Promise.all([loadSplit('train'), loadSplit('test'), createClassifier()]).catch((error: unknown) => {
  fail(error);
  throw error;
});

const { info } = classifier.gpu;
ui.device.textContent = `GPU: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') || 'unnamed adapter'}${info.software ? ' (software rendering: training is slower)' : ''}`;
ui.status.textContent = `${train.count.toLocaleString()} training images loaded; the model is compiled. Press Train.`;
ui.train.disabled = false;
for (const button of ui.weightButtons) button.disabled = false;
fillGallery(test);
setState('ready');

async function showPrediction(): Promise<void> {
  const probabilities = await classify(classifier, pad.pixels);
  const best = probabilities.indexOf(Math.max(...probabilities));
  const verdict = `${CLASSES[best] ?? '?'} · ${((probabilities[best] ?? 0) * 100).toFixed(0)}%`;
  ui.prediction.textContent = verdict;
  if (truth !== undefined) {
    const note = document.createElement('small');
    note.textContent = `${truth === best ? 'right: it is' : 'wrong: it is really'} ${CLASSES[truth] ?? '?'}`;
    ui.prediction.append(note);
  }
  ui.scores.replaceChildren(
    ...probabilities.map((probability, index) => {
      const row = document.createElement('li');
      row.classList.toggle('best', index === best);
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${probability * 100}%`;
      const track = document.createElement('span');
      track.className = 'track';
      track.append(bar);
      const value = document.createElement('span');
      value.className = 'value';
      value.textContent = `${(probability * 100).toFixed(0)}%`;
      row.append(CLASSES[index] ?? '', track, value);
      return row;
    }),
  );
}

function fillGallery(split: Split): void {
  const picks = shuffled(split.count).subarray(0, GALLERY_SIZE);
  ui.gallery.replaceChildren(
    ...Array.from(picks, (index) => {
      const button = document.createElement('button');
      const bytes = split.images.subarray(index * PIXELS, (index + 1) * PIXELS);
      button.append(thumbnail(bytes));
      button.title = CLASSES[split.labels[index] ?? 0] ?? '';
      button.addEventListener('click', () => {
        for (const picked of ui.gallery.querySelectorAll('.picked')) picked.classList.remove('picked');
        button.classList.add('picked');
        pad.show(bytes);
        truth = split.labels[index];
        void showPrediction().catch(fail);
      });
      return button;
    }),
  );
}

async function trainModel(steps: number): Promise<void> {
  setState('training');
  stopRequested = false;
  ui.train.textContent = 'Stop';
  ui.steps.disabled = true;
  ui.status.className = 'muted';
  chart.reset();
  const perEpoch = Math.floor(train.count / BATCH);
  let order = shuffled(train.count);
  const start = performance.now();
  let step = 0;
  for (; step < steps && !stopRequested; step++) {
    if (step > 0 && step % perEpoch === 0) order = shuffled(train.count);
    const first = (step % perEpoch) * BATCH;
    const loss = await trainStep(classifier, batchOf(train, order.subarray(first, first + BATCH), BATCH));
    chart.add(loss);
    ui.loss.textContent = loss.toFixed(3);
    ui.progress.value = (step + 1) / steps;
    const rate = (step + 1) / ((performance.now() - start) / 1000);
    ui.status.textContent = `step ${step + 1} of ${steps} · ${rate.toFixed(0)} steps/s · epoch ${(((step + 1) * BATCH) / train.count).toFixed(2)}`;
  }
  const seconds = (performance.now() - start) / 1000;
  const trained = `Trained ${step} steps of ${BATCH} images in ${seconds.toFixed(1)} s (${(step / seconds).toFixed(0)} steps/s).`;
  ui.status.textContent = `${trained} Scoring the test set…`;
  ui.accuracy.textContent = `${(100 * (await accuracy())).toFixed(1)}%`;
  ui.status.textContent = `${trained} Draw or pick an image to classify it.`;
  ui.train.textContent = 'Train more';
  ui.steps.disabled = false;
  await showPrediction();
  setState('trained');
}

/** The share of the first ACCURACY_IMAGES test images the model classifies right. */
async function accuracy(): Promise<number> {
  let correct = 0;
  for (let first = 0; first < ACCURACY_IMAGES; first += BATCH) {
    const batch = batchOf(test, Array.from({ length: BATCH }, (_, row) => first + row), BATCH);
    const { logits } = await classifier.session.forward({ images: batch.images }, { outputs: ['logits'] });
    for (let row = 0; row < BATCH; row++) {
      const scores = Array.from(logits?.data.subarray(row * 10, row * 10 + 10) ?? []);
      if (scores.indexOf(Math.max(...scores)) === batch.labels[row]) correct++;
    }
  }
  return correct / ACCURACY_IMAGES;
}

ui.train.addEventListener('click', () => {
  if (document.body.dataset['state'] === 'training') {
    stopRequested = true;
    return;
  }
  void trainModel(Number(ui.steps.value)).catch(fail);
});
element('clear', HTMLButtonElement).addEventListener('click', () => {
  pad.clear();
  truth = undefined;
  ui.prediction.textContent = 'Draw something or pick an image.';
  ui.scores.replaceChildren();
});
element('more', HTMLButtonElement).addEventListener('click', () => fillGallery(test));

async function loadWeights(bytes: Uint8Array, from: string): Promise<void> {
  await classifier.session.loadCheckpoint(bytes);
  ui.weightsStatus.textContent = `Loaded the weights ${from}.`;
  ui.accuracy.textContent = `${(100 * (await accuracy())).toFixed(1)}%`;
  await showPrediction();
}

function weightsAction(id: string, event: string, action: (target: HTMLElement) => Promise<void>): void {
  const target = element(id, HTMLElement);
  target.addEventListener(event, () => {
    ui.weightsStatus.className = 'muted';
    action(target).catch((error: unknown) => {
      ui.weightsStatus.className = 'error';
      ui.weightsStatus.textContent = error instanceof Error ? error.message : String(error);
    });
  });
}
weightsAction('save', 'click', async () => {
  const bytes = await classifier.session.saveCheckpoint();
  await storeCheckpoint(bytes);
  ui.weightsStatus.textContent = `Saved ${(bytes.length / 1024).toFixed(0)} KB of weights in this browser.`;
});
weightsAction('restore', 'click', async () => {
  const bytes = await storedCheckpoint();
  if (bytes === undefined) throw new Error('No weights are saved in this browser yet: train, then press "Save in this browser".');
  await loadWeights(bytes, 'saved in this browser');
});
weightsAction('download', 'click', async () => {
  download(await classifier.session.saveCheckpoint(), 'fashion-mnist-mlp.safetensors');
  ui.weightsStatus.textContent = 'Downloaded fashion-mnist-mlp.safetensors.';
});
weightsAction('open', 'change', async (input) => {
  const file = (input as HTMLInputElement).files?.[0];
  if (file !== undefined) await loadWeights(new Uint8Array(await file.arrayBuffer()), `from ${file.name}`);
});
