import type { GraphInput } from '../graph/types.js';

/** CIFAR's 3×32×32 images, the input the built-in architectures were written for. */
export const CIFAR_INPUT: GraphInput = { name: 'input', channels: 3, height: 32, width: 32 };
