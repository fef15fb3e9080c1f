// Node-API entry points of flowprune_native. Each export decodes its arguments (heap + offsets +
// sizes, see napi_args.h), runs one kernel synchronously and returns undefined. The argument order
// of every export is mirrored by NativeAddon in libs/tensor/src/native-addon.ts.
#include <node_api.h>

#include <string>
#include <vector>

#include "batchnorm.h"
#include "context.h"
#include "conv.h"
#include "elementwise.h"
#include "inference.h"
#include "layout.h"
#include "matmul.h"
#include "napi_args.h"
#include "pool.h"

namespace fp {

namespace {

napi_value undefinedValue(napi_env env) {
  napi_value v;
  napi_get_undefined(env, &v);
  return v;
}

napi_value numberValue(napi_env env, double x) {
  napi_value v;
  napi_create_double(env, x, &v);
  return v;
}

napi_value stringValue(napi_env env, const std::string& s) {
  napi_value v;
  napi_create_string_utf8(env, s.c_str(), s.size(), &v);
  return v;
}

size_t count(int64_t a, int64_t b = 1, int64_t c = 1, int64_t d = 1) { return static_cast<size_t>(a * b * c * d); }

// info() -> "oneDNN 2.6.3, 2 OpenMP thread(s)"
napi_value Info(napi_env env, napi_callback_info) {
  return guarded(env, "info", [&] {
    const dnnl_version_t* v = dnnl_version();
    const std::string s = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                          std::to_string(v->patch) + ", " + std::to_string(getThreads()) + " OpenMP thread(s)";
    return stringValue(env, s);
  });
}

// setThreads(n) -> threads in effect
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, "setThreads", [&] {
    Args a(env, info);
    return numberValue(env, setThreads(a.i32(0)));
  });
}

Layout layoutArg(const Args& a, size_t i) {
  const int l = a.i32(i);
  if (l != 0 && l != 1) throw JsError("unknown layout");
  return static_cast<Layout>(l);
}

/** Reads the 18 geometry numbers of a convolution starting at argument `first`. */
ConvShape convShapeArgs(const Args& a, size_t first) {
  ConvShape s{};
  int64_t* fields[] = {&s.n, &s.ih, &s.iw, &s.ic, &s.oh, &s.ow, &s.oc, &s.kh, &s.kw,
                       &s.sh, &s.sw, &s.dh, &s.dw, &s.pt, &s.pl, &s.pb, &s.pr, &s.groups};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) *fields[i] = a.i64(first + i);
  if (s.groups < 1 || s.ic % s.groups != 0 || s.oc % s.groups != 0) throw JsError("bad groups");
  return s;
}

// convPrefersBlocked(n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups) -> boolean
napi_value ConvPrefersBlocked(napi_env env, napi_callback_info info) {
  return guarded(env, "convPrefersBlocked", [&] {
    Args a(env, info);
    napi_value out;
    napi_get_boolean(env, convPrefersBlocked(convShapeArgs(a, 0)), &out);
    return out;
  });
}

// setConvLayoutPolicy(0 measure | 1 nhwc | 2 blocked)
napi_value SetConvLayoutPolicy(napi_env env, napi_callback_info info) {
  return guarded(env, "setConvLayoutPolicy", [&] {
    Args a(env, info);
    const int p = a.i32(0);
    if (p < 0 || p > 2) throw JsError("unknown layout policy");
    setConvLayoutPolicy(static_cast<LayoutPolicy>(p));
    return undefinedValue(env);
  });
}

// conv2d(heap, pass, a, b, out, n, ih, iw, ic, oh, ow, oc, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups,
//        inLayout, outLayout)   in = x / dx, out = y / dy (0 NHWC, 1 blocked)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, "conv2d", [&] {
    Args a(env, info);
    a.heap(0);
    const ConvPass pass = static_cast<ConvPass>(a.i32(1));
    ConvShape s = convShapeArgs(a, 5);
    s.in = layoutArg(a, 23);
    s.out = layoutArg(a, 24);
    const size_t in = count(s.n, s.ih, s.iw, s.ic), out = count(s.n, s.oh, s.ow, s.oc);
    const size_t filt = count(s.kh, s.kw, s.ic / s.groups, s.oc);
    switch (pass) {
      case ConvPass::Forward:
        convolution(pass, s, a.ptr<float>(2, in), a.ptr<float>(3, filt), a.ptr<float>(4, out));
        break;
      case ConvPass::BackwardData:
        convolution(pass, s, a.ptr<float>(2, out), a.ptr<float>(3, filt), a.ptr<float>(4, in));
        break;
      case ConvPass::BackwardWeights:
        convolution(pass, s, a.ptr<float>(2, in), a.ptr<float>(3, out), a.ptr<float>(4, filt));
        break;
      default:
        throw JsError("unknown pass");
    }
    return undefinedValue(env);
  });
}

// matmul(heap, a, b, out, batchA, batchB, m, n, k, transposeA, transposeB)
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, "matmul", [&] {
    Args a(env, info);
    a.heap(0);
    const MatMulShape s{a.i64(4), a.i64(5), a.i64(6), a.i64(7), a.i64(8), a.flag(9), a.flag(10)};
    matmul(s, a.ptr<float>(1, count(s.batchA, s.m, s.k)), a.ptr<float>(2, count(s.batchB, s.k, s.n)),
           a.ptr<float>(3, count(std::max(s.batchA, s.batchB), s.m, s.n)));
    return undefinedValue(env);
  });
}

/** Reads (layout, n, hw, c) starting at argument `first`. */
Activation activationArgs(const Args& a, size_t first) {
  const Activation act{layoutArg(a, first), a.i64(first + 1), a.i64(first + 2), a.i64(first + 3)};
  if (act.layout == Layout::Blocked8 && act.c % kBlock != 0) throw JsError("blocked layout needs channels divisible by 8");
  return act;
}

// batchNormTrain(heap, x, gamma, beta, residual|-1, y, mean, var, layout, n, hw, c, eps, relu)
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNormTrain", [&] {
    Args a(env, info);
    a.heap(0);
    const Activation act = activationArgs(a, 8);
    const size_t all = count(act.size()), ch = count(act.c);
    batchNormTrainForward(a.ptr<float>(1, all), a.ptr<float>(2, ch), a.ptr<float>(3, ch), a.optPtr<float>(4, all), act,
                          static_cast<float>(a.num(12)), a.flag(13), a.ptr<float>(5, all), a.ptr<float>(6, ch),
                          a.ptr<float>(7, ch));
    return undefinedValue(env);
  });
}

// batchNormTrainGrad(heap, dy, x, y|-1, gamma, mean, var, dx, dresidual|-1, dgamma, dbeta, layout, n, hw, c, eps, relu
//                    [, globalStats]): globalStats differentiates the eval-mode forward (running statistics).
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNormTrainGrad", [&] {
    Args a(env, info);
    a.heap(0);
    const Activation act = activationArgs(a, 11);
    const size_t all = count(act.size()), ch = count(act.c);
    const bool relu = a.flag(16);
    if (relu && a.num(3) < 0) throw JsError("relu needs the forward output");
    const bool globalStats = a.count() > 17 && a.flag(17);
    batchNormBackward(a.ptr<float>(1, all), a.ptr<float>(2, all), a.optPtr<float>(3, all), a.ptr<float>(4, ch),
                      a.ptr<float>(5, ch), a.ptr<float>(6, ch), act, static_cast<float>(a.num(15)), relu, globalStats,
                      a.ptr<float>(7, all), a.optPtr<float>(8, all), a.ptr<float>(9, ch), a.ptr<float>(10, ch));
    return undefinedValue(env);
  });
}

// batchNormInference(heap, x, mean, meanLen, var, varLen, gamma|-1, gammaLen, beta|-1, betaLen, y, layout, n, hw, c, eps,
//                    relu[, residual|-1])
napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  return guarded(env, "batchNormInference", [&] {
    Args a(env, info);
    a.heap(0);
    const Activation act = activationArgs(a, 11);
    const int64_t c = act.c;
    const size_t all = count(act.size());
    const int64_t meanLen = a.i64(3), varLen = a.i64(5), gammaLen = a.i64(7), betaLen = a.i64(9);
    for (int64_t len : {meanLen, varLen, gammaLen, betaLen})
      if (len != 1 && len != c) throw JsError("per-channel inputs need 1 or c elements");
    batchNormInference(a.ptr<float>(1, all), a.ptr<float>(2, count(meanLen)), meanLen, a.ptr<float>(4, count(varLen)),
                       varLen, a.optPtr<float>(6, count(gammaLen)), gammaLen, a.optPtr<float>(8, count(betaLen)), betaLen, act,
                       a.count() > 17 ? a.optPtr<float>(17, all) : nullptr, static_cast<float>(a.num(15)), a.flag(16),
                       a.ptr<float>(10, all));
    return undefinedValue(env);
  });
}

// binary(heap, op, a, b, out, n)
napi_value BinaryOp(napi_env env, napi_callback_info info) {
  return guarded(env, "binary", [&] {
    Args a(env, info);
    a.heap(0);
    const int op = a.i32(1);
    if (op < 0 || op > 2) throw JsError("unknown binary op");
    const size_t n = count(a.i64(5));
    binary(static_cast<Binary>(op), a.ptr<float>(2, n), a.ptr<float>(3, n), static_cast<int64_t>(n), a.ptr<float>(4, n));
    return undefinedValue(env);
  });
}

// relu(heap, x, out, n)
napi_value Relu(napi_env env, napi_callback_info info) {
  return guarded(env, "relu", [&] {
    Args a(env, info);
    a.heap(0);
    const size_t n = count(a.i64(3));
    relu(a.ptr<float>(1, n), static_cast<int64_t>(n), a.ptr<float>(2, n));
    return undefinedValue(env);
  });
}

// reluGrad(heap, dy, x, dx, n)
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  return guarded(env, "reluGrad", [&] {
    Args a(env, info);
    a.heap(0);
    const size_t n = count(a.i64(4));
    reluGrad(a.ptr<float>(1, n), a.ptr<float>(2, n), static_cast<int64_t>(n), a.ptr<float>(3, n));
    return undefinedValue(env);
  });
}

// pool(heap, kind, a, b|-1, out, n, ih, iw, c, oh, ow, fh, fw, sh, sw, pt, pl, layout)
//   kind 0 max (a = x), 1 max gradient (a = x, b = dy), 2 average (a = x), 3 average gradient (a = dy)
napi_value Pool(napi_env env, napi_callback_info info) {
  return guarded(env, "pool", [&] {
    Args a(env, info);
    a.heap(0);
    const int kind = a.i32(1);
    PoolShape s{};
    int64_t* fields[] = {&s.n, &s.ih, &s.iw, &s.c, &s.oh, &s.ow, &s.fh, &s.fw, &s.sh, &s.sw, &s.pt, &s.pl};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) *fields[i] = a.i64(5 + i);
    if (layoutArg(a, 17) == Layout::Blocked8) {
      // nChw8c is NHWC with 8 channels over n * c/8 images: pool those.
      if (s.c % kBlock != 0) throw JsError("blocked layout needs channels divisible by 8");
      s.n *= s.c / kBlock;
      s.c = kBlock;
    }
    const size_t in = count(s.n, s.ih, s.iw, s.c), out = count(s.n, s.oh, s.ow, s.c);
    switch (kind) {
      case 0: maxPool(s, a.ptr<float>(2, in), a.ptr<float>(4, out)); break;
      case 1: maxPoolGrad(s, a.ptr<float>(2, in), a.ptr<float>(3, out), a.ptr<float>(4, in)); break;
      case 2: avgPool(s, a.ptr<float>(2, in), a.ptr<float>(4, out)); break;
      case 3: avgPoolGrad(s, a.ptr<float>(2, out), a.ptr<float>(4, in)); break;
      default: throw JsError("unknown pool kind");
    }
    return undefinedValue(env);
  });
}

// relayout(heap, data, n, h, w, c, from, to): rewrites an activation in place between layouts
napi_value Relayout(napi_env env, napi_callback_info info) {
  return guarded(env, "relayout", [&] {
    Args a(env, info);
    a.heap(0);
    const int64_t n = a.i64(2), h = a.i64(3), w = a.i64(4), c = a.i64(5);
    relayoutInPlace(a.ptr<float>(1, count(n, h, w, c)), n, h, w, c, layoutArg(a, 6), layoutArg(a, 7));
    return undefinedValue(env);
  });
}

// sgdStep(heap, slots: Float64Array of [param, grad, buf|-1, size, fresh] per parameter, lr, momentum, weightDecay)
napi_value SgdStep(napi_env env, napi_callback_info info) {
  return guarded(env, "sgdStep", [&] {
    Args a(env, info);
    a.heap(0);
    size_t len = 0;
    const double* raw = a.f64array(1, &len);
    if (len % 5 != 0) throw JsError("slots must hold 5 numbers per parameter");
    std::vector<SgdSlot> slots;
    slots.reserve(len / 5);
    for (size_t i = 0; i < len; i += 5) {
      const int64_t size = static_cast<int64_t>(raw[i + 3]);
      slots.push_back({a.heapPtr<float>(raw[i], size), a.heapPtr<float>(raw[i + 1], size),
                       raw[i + 2] < 0 ? nullptr : a.heapPtr<float>(raw[i + 2], size), size, raw[i + 4] != 0});
    }
    sgdStep(slots.data(), static_cast<int64_t>(slots.size()), static_cast<float>(a.num(2)), static_cast<float>(a.num(3)),
            static_cast<float>(a.num(4)));
    return undefinedValue(env);
  });
}

// inferenceCompile(program: Float64Array, layout) -> handle (see inference.h for the format)
napi_value InferenceCompile(napi_env env, napi_callback_info info) {
  return guarded(env, "inferenceCompile", [&] {
    Args a(env, info);
    size_t len = 0;
    const double* program = a.f64array(0, &len);
    return numberValue(env, inferenceCompile(program, len, layoutArg(a, 1)));
  });
}

// inferenceSetWeights(handle, heap, table: Float64Array of heap offsets, kWeightRecord per op)
napi_value InferenceSetWeights(napi_env env, napi_callback_info info) {
  return guarded(env, "inferenceSetWeights", [&] {
    Args a(env, info);
    a.heap(1);
    size_t len = 0;
    const double* table = a.f64array(2, &len);
    inferenceSetWeights(a.i32(0), a.heapBase(), a.heapLength(), table, len);
    return undefinedValue(env);
  });
}

// inferenceRun(handle, heap, x, inLayout, n, out, outSize, inSize)
napi_value InferenceRun(napi_env env, napi_callback_info info) {
  return guarded(env, "inferenceRun", [&] {
    Args a(env, info);
    a.heap(1);
    inferenceRun(a.i32(0), a.ptr<float>(2, count(a.i64(7))), layoutArg(a, 3), a.i64(4), a.ptr<float>(5, count(a.i64(6))));
    return undefinedValue(env);
  });
}

// inferenceDescribe(handle, inLayout, n) -> one line per primitive
napi_value InferenceDescribe(napi_env env, napi_callback_info info) {
  return guarded(env, "inferenceDescribe", [&] {
    Args a(env, info);
    return stringValue(env, inferenceDescribe(a.i32(0), layoutArg(a, 1), a.i64(2)));
  });
}

// inferenceRelease(handle)
napi_value InferenceRelease(napi_env env, napi_callback_info info) {
  return guarded(env, "inferenceRelease", [&] {
    Args a(env, info);
    inferenceRelease(a.i32(0));
    return undefinedValue(env);
  });
}

// sgemmProbe(size, repeats) -> best seconds of one size^3 sgemm on all threads
napi_value SgemmProbe(napi_env env, napi_callback_info info) {
  return guarded(env, "sgemmProbe", [&] {
    Args a(env, info);
    return numberValue(env, sgemmProbe(a.i64(0), a.i32(1)));
  });
}

// fmaProbe(threads, iterations, repeats) -> [best seconds, floating-point operations]
napi_value FmaProbe(napi_env env, napi_callback_info info) {
  return guarded(env, "fmaProbe", [&] {
    Args a(env, info);
    const int threads = a.i32(0);
    const int64_t iterations = a.i64(1);
    const double seconds = fmaProbe(threads, iterations, a.i32(2));
    napi_value out, v;
    napi_create_array_with_length(env, 2, &out);
    napi_create_double(env, seconds, &v);
    napi_set_element(env, out, 0, v);
    napi_create_double(env, static_cast<double>(fmaProbeFlops(threads, iterations)), &v);
    napi_set_element(env, out, 1, v);
    return out;
  });
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convPrefersBlocked", nullptr, ConvPrefersBlocked, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setConvLayoutPolicy", nullptr, SetConvLayoutPolicy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relayout", nullptr, Relayout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormInference", nullptr, BatchNormInference, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, BinaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"relu", nullptr, Relu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluGrad", nullptr, ReluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pool", nullptr, Pool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdStep", nullptr, SgdStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferenceCompile", nullptr, InferenceCompile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferenceSetWeights", nullptr, InferenceSetWeights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferenceRun", nullptr, InferenceRun, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferenceDescribe", nullptr, InferenceDescribe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferenceRelease", nullptr, InferenceRelease, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgemmProbe", nullptr, SgemmProbe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fmaProbe", nullptr, FmaProbe, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

}  // namespace fp

NAPI_MODULE(NODE_GYP_MODULE_NAME, fp::Init)
