// The few oneDNN calls whose signatures changed between the 2.x API (operation descriptors) and
// the 3.x API (primitive descriptors built directly). Everything else flowprune uses is the same
// in both. Debian 12's libdnnl-dev is 2.6 (the tested path); Homebrew and conda ship 3.x.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace fp {

using dnnl::memory;

inline dnnl::convolution_forward::primitive_desc convFwdPd(const dnnl::engine& eng, const memory::desc& src,
                                                            const memory::desc& wei, const memory::desc& dst,
                                                            const memory::dims& strides, const memory::dims& dilates,
                                                            const memory::dims& padL, const memory::dims& padR,
                                                            const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei, dst, strides, dilates, padL, padR, attr};
#else
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei, dst,
                                    strides, dilates, padL, padR);
  return {d, attr, eng};
#endif
}

inline dnnl::convolution_backward_data::primitive_desc convBwdDataPd(
    const dnnl::engine& eng, const memory::desc& diffSrc, const memory::desc& wei, const memory::desc& diffDst,
    const memory::dims& strides, const memory::dims& dilates, const memory::dims& padL, const memory::dims& padR,
    const dnnl::convolution_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::algorithm::convolution_direct, diffSrc, wei, diffDst, strides, dilates, padL, padR, hint, attr};
#else
  dnnl::convolution_backward_data::desc d(dnnl::algorithm::convolution_direct, diffSrc, wei, diffDst, strides, dilates, padL, padR);
  return {d, attr, eng, hint};
#endif
}

inline dnnl::convolution_backward_weights::primitive_desc convBwdWeightsPd(
    const dnnl::engine& eng, const memory::desc& src, const memory::desc& diffWei, const memory::desc& diffDst,
    const memory::dims& strides, const memory::dims& dilates, const memory::dims& padL, const memory::dims& padR,
    const dnnl::convolution_forward::primitive_desc& hint, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::algorithm::convolution_direct, src, diffWei, diffDst, strides, dilates, padL, padR, hint, attr};
#else
  dnnl::convolution_backward_weights::desc d(dnnl::algorithm::convolution_direct, src, diffWei, diffDst, strides, dilates, padL, padR);
  return {d, attr, eng, hint};
#endif
}

inline dnnl::matmul::primitive_desc matmulPd(const dnnl::engine& eng, const memory::desc& a, const memory::desc& b,
                                             const memory::desc& c, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, a, b, c, attr};
#else
  return {dnnl::matmul::desc(a, b, c), attr, eng};
#endif
}

// Inference-only descriptors (the fused eval executor, inference.cc).

inline dnnl::convolution_forward::primitive_desc convInferencePd(const dnnl::engine& eng, const memory::desc& src,
                                                                 const memory::desc& wei, const memory::desc& bias,
                                                                 const memory::desc& dst, const memory::dims& strides,
                                                                 const memory::dims& dilates, const memory::dims& padL,
                                                                 const memory::dims& padR, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, wei, bias, dst, strides, dilates, padL, padR, attr};
#else
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src, wei, bias, dst,
                                    strides, dilates, padL, padR);
  return {d, attr, eng};
#endif
}

inline dnnl::pooling_forward::primitive_desc poolInferencePd(const dnnl::engine& eng, dnnl::algorithm alg, const memory::desc& src,
                                                             const memory::desc& dst, const memory::dims& strides,
                                                             const memory::dims& kernel, const memory::dims& padL,
                                                             const memory::dims& padR, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::prop_kind::forward_inference, alg, src, dst, strides, kernel, memory::dims{0, 0}, padL, padR, attr};
#else
  dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, src, dst, strides, kernel, padL, padR);
  return {d, attr, eng};
#endif
}

inline dnnl::inner_product_forward::primitive_desc innerProductInferencePd(const dnnl::engine& eng, const memory::desc& src,
                                                                           const memory::desc& wei, const memory::desc& bias,
                                                                           const memory::desc& dst, const dnnl::primitive_attr& attr) {
#if DNNL_VERSION_MAJOR >= 3
  return {eng, dnnl::prop_kind::forward_inference, src, wei, bias, dst, attr};
#else
  dnnl::inner_product_forward::desc d(dnnl::prop_kind::forward_inference, src, wei, bias, dst);
  return {d, attr, eng};
#endif
}

inline void appendEltwise(dnnl::post_ops& ops, dnnl::algorithm alg, float alpha, float beta) {
#if DNNL_VERSION_MAJOR >= 3
  ops.append_eltwise(alg, alpha, beta);
#else
  ops.append_eltwise(1.f, alg, alpha, beta);
#endif
}

/** A 3x3 depthwise convolution post-op (f32) with this stride and left/top padding. */
inline void appendDepthwise(dnnl::post_ops& ops, memory::dim stride, memory::dim padL) {
#if DNNL_VERSION_MAJOR >= 3
  ops.append_dw(memory::data_type::f32, memory::data_type::f32, memory::data_type::f32, 3, stride, padL);
#else
  ops.append_dw(memory::data_type::f32, memory::data_type::f32, memory::data_type::f32, 3, stride, padL, 0, {});
#endif
}

}  // namespace fp
