// Argument decoding for the kernels exported to JavaScript.
//
// Every kernel receives the tfjs wasm heap (an ArrayBuffer) followed by byte offsets into it and
// plain numbers. Tensors are read and written in place: the pointer is the heap's backing store
// plus the offset, so nothing is copied between JavaScript and native memory. The heap buffer is
// passed on every call because wasm memory growth replaces the ArrayBuffer object.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace fp {

/** A JavaScript-facing error; the message is thrown as a JS Error by the export wrapper. */
struct JsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args(napi_env env, napi_callback_info info) : env_(env) {
    argc_ = kMax;
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) throw JsError("bad call");
  }

  size_t count() const { return argc_; }

  /** The heap ArrayBuffer at argument i; later ptr() calls index into it. */
  void heap(size_t i) {
    void* data = nullptr;
    size_t len = 0;
    if (napi_get_arraybuffer_info(env_, at(i), &data, &len) != napi_ok) throw JsError(name(i) + " must be an ArrayBuffer");
    base_ = static_cast<uint8_t*>(data);
    len_ = len;
  }

  /** The heap set by heap(): its first byte and its length in bytes. */
  const uint8_t* heapBase() const {
    if (!base_) throw JsError("heap not set");
    return base_;
  }
  size_t heapLength() const { return len_; }

  /** Pointer to `count` elements of T at the heap byte offset in argument i, bounds-checked. */
  template <typename T>
  T* ptr(size_t i, size_t count) const {
    return heapPtr<T>(num(i), count);
  }

  /** Pointer to `count` elements of T at a heap byte offset given directly, bounds-checked. */
  template <typename T>
  T* heapPtr(double offset, size_t count) const {
    if (!base_) throw JsError("heap not set");
    if (!(offset >= 0) || static_cast<size_t>(offset) + count * sizeof(T) > len_) throw JsError("tensor outside the heap");
    return reinterpret_cast<T*>(base_ + static_cast<size_t>(offset));
  }

  /** Like ptr(), but a negative offset means "absent" and gives nullptr. */
  template <typename T>
  T* optPtr(size_t i, size_t count) const {
    return num(i) < 0 ? nullptr : ptr<T>(i, count);
  }

  double num(size_t i) const {
    double v = 0;
    if (napi_get_value_double(env_, at(i), &v) != napi_ok) throw JsError(name(i) + " must be a number");
    return v;
  }

  int64_t i64(size_t i) const { return static_cast<int64_t>(num(i)); }
  int i32(size_t i) const { return static_cast<int>(num(i)); }
  /** A boolean, or a number (non-zero is true). */
  bool flag(size_t i) const {
    bool b = false;
    if (napi_get_value_bool(env_, at(i), &b) == napi_ok) return b;
    return num(i) != 0;
  }

  /** Float64Array argument i (host memory owned by JS), e.g. a list of offsets. */
  const double* f64array(size_t i, size_t* length) const {
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env_, at(i), &type, &len, &data, nullptr, nullptr) != napi_ok || type != napi_float64_array)
      throw JsError(name(i) + " must be a Float64Array");
    *length = len;
    return static_cast<const double*>(data);
  }

 private:
  static constexpr size_t kMax = 40;
  napi_value at(size_t i) const {
    if (i >= argc_) throw JsError("missing " + name(i));
    return argv_[i];
  }
  static std::string name(size_t i) { return "argument " + std::to_string(i); }

  napi_env env_;
  size_t argc_;
  napi_value argv_[kMax];
  uint8_t* base_ = nullptr;
  size_t len_ = 0;
};

/** Runs body, turning any C++ exception (ours, oneDNN's, bad_alloc) into a thrown JS Error. */
template <typename F>
napi_value guarded(napi_env env, const char* kernel, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    napi_throw_error(env, nullptr, (std::string(kernel) + ": " + e.what()).c_str());
  } catch (...) {
    napi_throw_error(env, nullptr, (std::string(kernel) + ": unknown native error").c_str());
  }
  return nullptr;
}

}  // namespace fp
