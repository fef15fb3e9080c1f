import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { checkDataFits, DataFitError } from './fit.js';

const model = { input: { name: 'input', channels: 1, height: 28, width: 28 }, numClasses: 10 };

test('a dataset of the model\'s image size and class count fits', () => {
  checkDataFits(model, 'resnet18.onnx', { channels: 1, height: 28, width: 28, classes: 10 }, 'fashion-mnist');
});

test('another image size is refused naming both sizes', () => {
  assert.throws(
    () => checkDataFits(model, 'resnet18.onnx', { channels: 3, height: 32, width: 32, classes: 10 }, 'cifar10'),
    (e: unknown) => e instanceof DataFitError && /model resnet18\.onnx takes 1×28×28 images and predicts 10 classes, but dataset cifar10 has 3×32×32 images and 10 classes/.test(e.message),
  );
});

test('another class count is refused naming both counts', () => {
  assert.throws(() => checkDataFits(model, 'resnet18.onnx', { channels: 1, height: 28, width: 28, classes: 100 }, 'other'), /predicts 10 classes, but dataset other has 1×28×28 images and 100 classes/);
});
