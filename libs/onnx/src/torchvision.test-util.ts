// The torchvision CNNs PyTorch exported (testdata/torchvision/make_models.py) with PyTorch's own
// input and outputs beside each file.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TORCHVISION_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'testdata', 'torchvision');
export const TORCHVISION_MODELS = ['resnet18', 'vgg11_bn', 'squeezenet1_1', 'mobilenet_v2', 'densenet121'] as const;

export interface TorchReference {
  onnx: Uint8Array;
  /** PyTorch's parameter count (trainable tensors). */
  params: number;
  input: { shape: number[]; data: Float32Array };
  output: { shape: number[]; data: Float32Array };
}

const f32 = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
};

export function torchReference(name: string): TorchReference {
  const ref = JSON.parse(readFileSync(join(TORCHVISION_DIR, `${name}.reference.json`), 'utf8')) as {
    model: string;
    params: number;
    input: { shape: number[]; f32le: string };
    output: { shape: number[]; f32le: string };
  };
  return {
    onnx: new Uint8Array(readFileSync(join(TORCHVISION_DIR, ref.model))),
    params: ref.params,
    input: { shape: ref.input.shape, data: f32(ref.input.f32le) },
    output: { shape: ref.output.shape, data: f32(ref.output.f32le) },
  };
}

/** Largest |a − b| relative to max(1, |b|). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}
