// Named arguments, read by one descriptor per call.
//
// Every native call takes plain objects ({ x, h0, wIh, ..., T, B, ... }). A
// call's fields are listed once, in an X-macro that gives both the field
// enum and the descriptor table; `read_fields` reads every property first
// (the only step where JS can run: a getter), then converts and type-checks
// them with no JS in between, so nothing can change after it is checked.
// Sizes are checked by the call (addon.cpp) on what was read.
#pragma once
#include <napi.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace rnnblas::binding {

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  throw Napi::TypeError::New(env, "rnnblas native: " + msg);
}

[[noreturn]] inline void throw_range(Napi::Env env, const std::string& msg) {
  throw Napi::RangeError::New(env, "rnnblas native: " + msg);
}

enum class Kind { F32, F64, I32, U8, Dim, Int, Number, Bool };
// What a call does with an array: reads it, writes it, or both (accumulates).
enum class Role { In, Out, InOut };
enum class Need { Required, Optional };

struct FieldSpec {
  const char* name;
  Kind kind;
  Role role;
  Need need;
};

// One typed-array argument as found (no copy): where its elements are, and
// the ArrayBuffer they live in (for keeping it during an async call).
struct Array {
  const FieldSpec* spec = nullptr;
  bool present = false;
  napi_value buffer = nullptr;  // the ArrayBuffer (or SharedArrayBuffer)
  char* base = nullptr;         // its first byte
  size_t base_bytes = 0;
  size_t offset = 0;            // byte offset of the view
  int64_t length = 0;           // elements
  size_t element = 0;           // bytes per element
  void* data = nullptr;         // base + offset; null when absent or detached

  size_t bytes() const { return static_cast<size_t>(length) * element; }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

struct Scalar {
  double value = 0;
};

// The converted fields of one argument object, indexed by the call's enum.
template <typename Field, size_t N>
struct Fields {
  std::array<Array, N> arrays{};
  std::array<Scalar, N> scalars{};
  const Array& operator[](Field f) const { return arrays[static_cast<size_t>(f)]; }
  int64_t dim(Field f) const { return static_cast<int64_t>(scalars[static_cast<size_t>(f)].value); }
  double number(Field f) const { return scalars[static_cast<size_t>(f)].value; }
  bool flag(Field f) const { return scalars[static_cast<size_t>(f)].value != 0; }
};

namespace detail {

inline napi_typedarray_type typed_type(Kind k) {
  switch (k) {
    case Kind::F32: return napi_float32_array;
    case Kind::F64: return napi_float64_array;
    case Kind::I32: return napi_int32_array;
    default: return napi_uint8_array;
  }
}

inline const char* typed_name(Kind k) {
  switch (k) {
    case Kind::F32: return "a Float32Array";
    case Kind::F64: return "a Float64Array";
    case Kind::I32: return "an Int32Array";
    default: return "a Uint8Array";
  }
}

// `what` names the argument object; the field's full name is only built for
// an error message (this runs for every field of every call).
inline std::string field_name(const std::string& what, const FieldSpec& spec) {
  return what + "." + spec.name;
}

inline Array to_array(Napi::Env env, const FieldSpec& spec, napi_value v, const std::string& what) {
  Array a;
  a.spec = &spec;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) {
    if (spec.need == Need::Optional) return a;
    throw_type(env, "expected " + std::string(typed_name(spec.kind)) + " for " + field_name(what, spec));
  }
  bool is_typed = false;
  napi_is_typedarray(env, v, &is_typed);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer = nullptr;
  size_t offset = 0;
  if (is_typed) napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset);
  if (!is_typed || type != typed_type(spec.kind)) {
    throw_type(env, "expected " + std::string(typed_name(spec.kind)) + " for " + field_name(what, spec) +
                        (spec.need == Need::Optional ? " (or null)" : ""));
  }
  a.present = true;
  a.buffer = buffer;
  a.length = static_cast<int64_t>(length);
  a.element = spec.kind == Kind::F64 ? 8 : spec.kind == Kind::F32 || spec.kind == Kind::I32 ? 4 : 1;
  a.offset = offset;
  void* base = nullptr;
  size_t base_bytes = 0;
  if (napi_get_arraybuffer_info(env, buffer, &base, &base_bytes) == napi_ok) {
    a.base = static_cast<char*>(base);
    a.base_bytes = base_bytes;
  } else if (data != nullptr) {  // a SharedArrayBuffer: it cannot be detached
    a.base = static_cast<char*>(data) - offset;
    a.base_bytes = offset + a.bytes();
  }
  // A detached buffer has no memory: it fails every size check below.
  if (a.base == nullptr || data == nullptr || offset + a.bytes() > a.base_bytes) {
    a.length = 0;
    a.data = nullptr;
    a.base = nullptr;
  } else {
    a.data = data;
  }
  return a;
}

// An optional scalar left undefined reads as 0.
inline double to_scalar(Napi::Env env, const FieldSpec& spec, napi_value v, const std::string& what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_undefined && spec.need == Need::Optional) return 0;
  if (spec.kind == Kind::Bool) {
    if (t != napi_boolean) throw_type(env, "expected a boolean for " + field_name(what, spec));
    bool b = false;
    napi_get_value_bool(env, v, &b);
    return b ? 1 : 0;
  }
  if (t != napi_number) throw_type(env, "expected a number for " + field_name(what, spec));
  double d = 0;
  napi_get_value_double(env, v, &d);
  if (spec.kind == Kind::Dim) {
    if (!(d >= 1 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw_range(env, "expected an integer in 1..2147483647 for " + field_name(what, spec) + ", got " + std::to_string(d));
    }
  } else if (spec.kind == Kind::Int) {
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw_range(env, "expected a 32-bit integer for " + field_name(what, spec) + ", got " + std::to_string(d));
    }
  } else if (!(d == d)) {
    throw_range(env, "expected a number (not NaN) for " + field_name(what, spec));
  }
  return d;
}

}  // namespace detail

// Phase 1 of reading: every property of `object` named in `specs`, as values.
template <size_t N>
std::array<napi_value, N> read_properties(Napi::Env env, napi_value object,
                                          const std::array<FieldSpec, N>& specs,
                                          const std::string& what) {
  napi_valuetype t;
  napi_typeof(env, object, &t);
  if (t != napi_object) throw_type(env, "expected an argument object for " + what);
  std::array<napi_value, N> values{};
  for (size_t i = 0; i < N; ++i) {
    if (napi_get_named_property(env, object, specs[i].name, &values[i]) != napi_ok) {
      throw Napi::Error::New(env);  // a getter threw: rethrow it
    }
  }
  return values;
}

// Phase 2: converts and type-checks what phase 1 read; runs no JS.
template <typename Field, size_t N>
Fields<Field, N> convert_fields(Napi::Env env, const std::array<napi_value, N>& values,
                                const std::array<FieldSpec, N>& specs, const std::string& what) {
  Fields<Field, N> out;
  for (size_t i = 0; i < N; ++i) {
    const FieldSpec& s = specs[i];
    if (s.kind == Kind::F32 || s.kind == Kind::F64 || s.kind == Kind::I32 || s.kind == Kind::U8) {
      out.arrays[i] = detail::to_array(env, s, values[i], what);
    } else {
      out.scalars[i].value = detail::to_scalar(env, s, values[i], what);
    }
  }
  return out;
}

// a*b without overflow.
inline int64_t mul(Napi::Env env, int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw_range(env, "size overflows 64 bits");
  return r;
}

inline void require_length(Napi::Env env, const Array& v, const std::string& what,
                           int64_t expected, const std::string& derivation) {
  if (v.present && v.length != expected) {
    throw_range(env, what + "." + v.spec->name + " has " + std::to_string(v.length) +
                         " elements, expected " + std::to_string(expected) + " (" +
                         derivation + ")" + (v.data == nullptr ? "; its buffer is detached" : ""));
  }
}

inline void require_at_least(Napi::Env env, const Array& v, const std::string& what,
                             int64_t expected, const std::string& derivation) {
  if (v.present && v.length < expected) {
    throw_range(env, what + "." + v.spec->name + " has " + std::to_string(v.length) +
                         " elements, expected at least " + std::to_string(expected) +
                         " (" + derivation + ")" + (v.data == nullptr ? "; its buffer is detached" : ""));
  }
}

// The byte ranges of two arrays meet.
inline bool overlaps(const Array& a, const Array& b) {
  if (a.data == nullptr || b.data == nullptr || a.length == 0 || b.length == 0) return false;
  const auto a0 = reinterpret_cast<uintptr_t>(a.data), a1 = a0 + a.bytes();
  const auto b0 = reinterpret_cast<uintptr_t>(b.data), b1 = b0 + b.bytes();
  return a0 < b1 && b0 < a1;
}

}  // namespace rnnblas::binding

// X-macro helpers: F(name, Kind, Role, Need) rows give an enum and a table.
#define RNNBLAS_FIELD_ENUM(name, kind, role, need) name,
#define RNNBLAS_FIELD_SPEC(name, kind, role, need) \
  ::rnnblas::binding::FieldSpec{#name, ::rnnblas::binding::Kind::kind, \
                                ::rnnblas::binding::Role::role,        \
                                ::rnnblas::binding::Need::need},
#define RNNBLAS_FIELD_COUNT(name, kind, role, need) +1
