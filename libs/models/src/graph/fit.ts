// Whether a dataset fits a model: its images are the model's input size and its classes the model's
// outputs. Imported models bring both with them; a mismatch is refused, naming both sides.
import type { GraphInput } from './types.js';

export class DataFitError extends Error {
  readonly kind = 'invalid-argument';
  constructor(message: string) {
    super(message);
    this.name = 'DataFitError';
  }
}

/** A dataset's image size (C×H×W) and class count. */
export interface ImageDataSpec {
  channels: number;
  height: number;
  width: number;
  classes: number;
}

const size = (s: { channels: number; height: number; width: number }) => `${s.channels}×${s.height}×${s.width}`;

export function checkDataFits(model: { input: GraphInput; numClasses: number }, modelName: string, data: ImageDataSpec, dataName: string): void {
  const sameSize = model.input.channels === data.channels && model.input.height === data.height && model.input.width === data.width;
  if (sameSize && model.numClasses === data.classes) return;
  throw new DataFitError(
    `model ${modelName} takes ${size(model.input)} images and predicts ${model.numClasses} classes, but dataset ${dataName} has ${size(data)} images and ${data.classes} classes; ` +
      `use a dataset of ${size(model.input)} images in ${model.numClasses} classes, or import a model made for ${dataName}`,
  );
}
