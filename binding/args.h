// Argument unpacking for the N-API surface. Every size is re-checked here
// before a kernel touches memory, even though src/ validated it first:
// no call from JS may read or write out of bounds.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rnnblas::binding {

// The arguments of one call: a CallbackInfo's, or the elements of a JS array
// (for calls that take several argument lists, such as forwardPair).
class ArgList {
 public:
  explicit ArgList(const Napi::CallbackInfo& info) : env_(info.Env()) {
    for (size_t i = 0; i < info.Length(); ++i) values_.push_back(info[i]);
  }
  ArgList(Napi::Env env, const Napi::Value& v) : env_(env) {
    if (!v.IsArray()) {
      throw Napi::TypeError::New(env, "rnnblas native: expected an array of arguments");
    }
    auto a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) values_.push_back(a.Get(i));
  }
  Napi::Value operator[](size_t i) const {
    return i < values_.size() ? values_[i] : env_.Undefined();
  }
  size_t Length() const { return values_.size(); }
  Napi::Env Env() const { return env_; }

 private:
  Napi::Env env_;
  std::vector<Napi::Value> values_;
};

// A borrowed, zero-copy view of a typed array's elements.
template <typename T>
struct View {
  T* data = nullptr;
  int64_t length = 0;
  napi_value handle = nullptr;  // for keeping async arguments alive
};

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "rnnblas native: " + msg);
}

[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "rnnblas native: " + msg);
}

// Float32Array (or null/undefined when optional).
inline View<float> f32(const ArgList& info, size_t i, const char* name,
                       bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() ||
      v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw_type(info.Env(), std::string("expected a Float32Array for ") + name +
                               (optional ? " (or null)" : ""));
  }
  auto a = v.As<Napi::Float32Array>();
  return {a.Data(), static_cast<int64_t>(a.ElementLength()), v};
}

inline View<int32_t> i32(const ArgList& info, size_t i,
                         const char* name, bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() ||
      v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw_type(info.Env(), std::string("expected an Int32Array for ") + name +
                               (optional ? " (or null)" : ""));
  }
  auto a = v.As<Napi::Int32Array>();
  return {a.Data(), static_cast<int64_t>(a.ElementLength()), v};
}

inline View<uint8_t> u8(const ArgList& info, size_t i, const char* name,
                        bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() ||
      v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw_type(info.Env(), std::string("expected a Uint8Array for ") + name +
                               (optional ? " (or null)" : ""));
  }
  auto a = v.As<Napi::Uint8Array>();
  return {a.Data(), static_cast<int64_t>(a.ElementLength()), v};
}

// A positive integer that fits BLAS's 32-bit int.
inline int64_t dim(const ArgList& info, size_t i, const char* name,
                   int64_t min = 1) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) {
    throw_type(info.Env(), std::string("expected a number for ") + name);
  }
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= static_cast<double>(min) && d <= 2147483647.0) ||
      d != static_cast<double>(static_cast<int64_t>(d))) {
    throw_range(info.Env(), std::string("expected an integer in ") +
                                std::to_string(min) + "..2147483647 for " +
                                name + ", got " + v.ToString().Utf8Value());
  }
  return static_cast<int64_t>(d);
}

inline bool flag(const ArgList& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) throw_type(info.Env(), std::string("expected a boolean for ") + name);
  return v.As<Napi::Boolean>().Value();
}

inline double number(const ArgList& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), std::string("expected a number for ") + name);
  return v.As<Napi::Number>().DoubleValue();
}

// a*b without overflow (all operands are < 2^31, products stay < 2^62 until
// a third factor; checked anyway).
inline int64_t mul(Napi::Env env, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw_range(env, "size overflows 64 bits");
  return r;
}

template <typename T>
inline void require_length(Napi::Env env, const View<T>& v, const char* name,
                           int64_t expected, const std::string& derivation) {
  if (v.handle != nullptr && v.length != expected) {
    throw_range(env, std::string(name) + " has " + std::to_string(v.length) +
                         " elements, expected " + std::to_string(expected) +
                         " (" + derivation + ")");
  }
}

template <typename T>
inline void require_at_least(Napi::Env env, const View<T>& v, const char* name,
                             int64_t expected, const std::string& derivation) {
  if (v.handle != nullptr && v.length < expected) {
    throw_range(env, std::string(name) + " has " + std::to_string(v.length) +
                         " elements, expected at least " +
                         std::to_string(expected) + " (" + derivation + ")");
  }
}

// A detached buffer arrives with data == nullptr and length 0: the length
// checks above key on the handle, so it fails them instead of being skipped.
// Outputs must not share memory with any other argument.
template <typename A, typename B>
inline bool overlaps(const View<A>& a, const View<B>& b) {
  if (a.data == nullptr || b.data == nullptr || a.length == 0 || b.length == 0) return false;
  auto a0 = reinterpret_cast<uintptr_t>(a.data);
  auto a1 = a0 + sizeof(A) * a.length;
  auto b0 = reinterpret_cast<uintptr_t>(b.data);
  auto b1 = b0 + sizeof(B) * b.length;
  return a0 < b1 && b0 < a1;
}

}  // namespace rnnblas::binding
