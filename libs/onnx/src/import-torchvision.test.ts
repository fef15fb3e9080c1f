// torchvision's CNNs, exported by PyTorch (testdata/torchvision/make_models.py): imported, written
// back by graphToOnnx, and run in ONNX Runtime, their outputs equal PyTorch's. This checks every
// translation (pads, groups, ceil mode, count_include_pad, folded Pads, dedup'd initializers).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { isTrainable } from '@flowprune/models';
import { graphToOnnx } from './export.js';
import { onnxToGraph } from './import.js';
import { onnxRuntimeRun, onnxRuntimeSession } from './latency.js';
import { encodeOnnx } from './onnx-file.js';
import { maxRelDiff, torchReference, TORCHVISION_MODELS } from './torchvision.test-util.js';

for (const name of TORCHVISION_MODELS) {
  test(`${name}: imported and written back, ONNX Runtime gives PyTorch's outputs (1e-4) with PyTorch's parameter count`, async () => {
    const ref = torchReference(name);
    const imported = onnxToGraph(ref.onnx, `${name}.onnx`);
    assert.equal(imported.numClasses, ref.output.shape[1]);
    const { channels, height, width } = imported.graph.input;
    assert.deepEqual([channels, height, width], ref.input.shape.slice(1));
    const trainable = imported.graph.params.filter((p) => isTrainable(p.kind)).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    assert.equal(trainable, ref.params);

    const session = await onnxRuntimeSession(encodeOnnx(graphToOnnx(imported.graph, imported.weights)));
    try {
      const out = await onnxRuntimeRun(session, ref.input.data, ref.input.shape);
      const diff = maxRelDiff(out, ref.output.data);
      assert.ok(diff < 1e-4, `${name}: max relative difference ${diff}`);
    } finally {
      await session.release();
    }
  });
}
