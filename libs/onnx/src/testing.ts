// Test-only entry (@flowprune/onnx/testing): the torchvision models PyTorch exported, with PyTorch's
// outputs, for tests outside this lib. Never imported by production code.
export { maxRelDiff, torchReference, TORCHVISION_DIR, TORCHVISION_MODELS, type TorchReference } from './torchvision.test-util.js';
