import { tf } from '@flowprune/tensor';

/** Mean cross-entropy of logits / T (the paper's temperature), labels as class indices. */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const z = temperature === 1 ? logits : tf.div(logits, temperature);
    const lse = tf.logSumExp(z, 1);
    const picked = tf.sum(tf.mul(z, tf.oneHot(labels, logits.shape[1])), 1);
    return tf.mean(tf.sub(lse, picked)) as tf.Scalar;
  });
}
