// The N-API surface of rnnblas. Declared for TypeScript in src/native/binding.ts.
//
// Every call takes named arguments (fields.h): read once, checked once here
// (src/ validated them first; this is the memory-safety check), then run on
// the calling thread or queued on the libuv pool with its memory held
// (keep.h, async_job.h). Settings (thread count, step kernel) live in one
// ExecContext per Node environment, copied into every call.
#include <napi.h>

#include <functional>
#include <memory>
#include <new>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../native/blas_runtime.h"
#include "../native/embedding.h"
#include "../native/exec_context.h"
#include "../native/losses.h"
#include "../native/optim.h"
#include "../native/rnn_layer.h"
#include "../native/team_gemm.h"
#include "../native/thread_team.h"
#include "async_job.h"
#include "fields.h"
#include "keep.h"
#include "memory.h"

namespace rnnblas::binding {
namespace {

// ---------------------------------------------------------------------------
// Per-environment settings

struct EnvState {
  ExecContext ctx;
  std::shared_ptr<ExternalBytes> external = std::make_shared<ExternalBytes>();
};

EnvState& env_state(Napi::Env env) {
  auto* s = env.GetInstanceData<EnvState>();
  if (s == nullptr) {
    s = new EnvState();
    s->ctx.threads = available_cpus();
    env.SetInstanceData(s);
  }
  return *s;
}

// A call either runs now or is queued with its memory held.
enum class Mode { Sync, Async };

// Runs `run` now (sync) or queues it with `kept` (async). Native exceptions
// become JS errors, never an abort.
Napi::Value dispatch(Napi::Env env, Mode mode, std::unique_ptr<Kept> kept,
                     std::function<void()> run) {
  if (mode == Mode::Async) return AsyncJob::queue(env, std::move(kept), std::move(run));
  try {
    run();
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "rnnblas native: out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("rnnblas native: ") + e.what());
  }
  return env.Undefined();
}

// Wraps an entry so that a native exception escaping it (bad_alloc while
// preparing) is a JS error.
template <Napi::Value (*Entry)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return Entry(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(info.Env(), "rnnblas native: out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("rnnblas native: ") + e.what());
  }
}

// The argument objects of a layer call: one per direction, 1 or 2.
std::vector<napi_value> direction_objects(Napi::Env env, Napi::Value value,
                                          const std::string& what) {
  if (!value.IsArray()) {
    throw_type(env, what + " expects an array of one or two direction objects");
  }
  const auto list = value.As<Napi::Array>();
  const uint32_t n = list.Length();
  if (n != 1 && n != 2) throw_range(env, std::string(what) + " takes 1 or 2 directions, got " + std::to_string(n));
  std::vector<napi_value> out;
  for (uint32_t i = 0; i < n; ++i) out.push_back(list.Get(i));
  return out;
}

Activation activation(Napi::Env env, double code, const std::string& what) {
  if (code == 0) return Activation::Tanh;
  if (code == 1) return Activation::Relu;
  throw_range(env, what + ".act: expected 0 (tanh) or 1 (relu)");
}

// Copies and checks lengths ([B] each in 1..T): kernels index with them, so
// they come from a private copy nothing else can change.
std::shared_ptr<std::vector<int32_t>> copy_lengths(Napi::Env env, const Array& a, int64_t T,
                                                   const std::string& what) {
  if (!a.present) return nullptr;
  auto out = std::make_shared<std::vector<int32_t>>(a.as<int32_t>(), a.as<int32_t>() + a.length);
  for (size_t b = 0; b < out->size(); ++b) {
    const int32_t v = (*out)[b];
    if (v < 1 || v > T) {
      throw_range(env, what + ".lengths[" + std::to_string(b) + "] is " + std::to_string(v) +
                           ", expected 1.." + std::to_string(T));
    }
  }
  return out;
}

int64_t strided_size(Napi::Env env, int64_t rows, int64_t ld, int64_t width) {
  return mul(env, rows - 1, ld) + width;
}

// Two strided outputs [rows, ld] of width H may share a buffer when their
// columns do not meet (the two halves of a bidirectional layer's y).
bool strided_disjoint(const Array& a, const Array& b, int64_t ld, int64_t H) {
  if (!overlaps(a, b)) return true;
  const auto pa = reinterpret_cast<uintptr_t>(a.data);
  const auto pb = reinterpret_cast<uintptr_t>(b.data);
  const uintptr_t diff = pa > pb ? pa - pb : pb - pa;
  if (diff % sizeof(float) != 0) return false;
  const int64_t cols = static_cast<int64_t>(diff / sizeof(float)) % ld;
  return cols >= H && cols <= ld - H;
}

void require_disjoint(Napi::Env env, const std::string& what, const Array& out,
                      std::initializer_list<const Array*> others) {
  for (const Array* o : others) {
    if (o != &out && overlaps(out, *o)) {
      throw_range(env, what + "." + out.spec->name + " shares memory with " + o->spec->name);
    }
  }
}

// ---------------------------------------------------------------------------
// forwardLayer([dir, dir?]) and forwardLayerAsync

// The cell of a call: 0 Elman, 1 LSTM, 2 GRU, 3 GRU with the reset gate
// before the product.
CellKind cell_kind(Napi::Env env, double code, const std::string& what) {
  if (code == 0) return CellKind::Elman;
  if (code == 1) return CellKind::Lstm;
  if (code == 2) return CellKind::Gru;
  if (code == 3) return CellKind::GruResetBefore;
  throw_range(env, what + ".cell: expected 0 (Elman), 1 (LSTM), 2 (GRU) or 3 (GRU, reset before the product)");
}

const char* cell_name(CellKind c) {
  switch (c) {
    case CellKind::Lstm: return "LSTM";
    case CellKind::Gru: return "GRU";
    case CellKind::GruResetBefore: return "GRU (reset before the product)";
    default: return "the Elman cell";
  }
}

// A field only some cells take: present exactly when `wanted`.
void require_presence(Napi::Env env, const Array& v, const std::string& what, bool wanted,
                      CellKind c) {
  if (v.present == wanted) return;
  throw_type(env, what + "." + v.spec->name + (wanted ? " is required for " : " is not taken by ") +
                      cell_name(c));
}

// Every output is disjoint from every other array of its call.
template <typename FieldsT, typename Field, size_t N>
void require_outputs_disjoint(Napi::Env env, const FieldsT& f, const std::string& what,
                              const Field (&outputs)[N]) {
  for (Field out : outputs) {
    for (const Array& other : f.arrays) {
      if (other.spec != nullptr && &other != &f[out] && overlaps(f[out], other)) {
        throw_range(env, what + "." + f[out].spec->name + " shares memory with " + other.spec->name);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// forwardLayer([dir, dir?]) and forwardLayerAsync

#define FORWARD_FIELDS(F)             \
  F(x, F32, In, Required)             \
  F(h0, F32, In, Optional)            \
  F(c0, F32, In, Optional)            \
  F(wIh, F32, In, Required)           \
  F(wHh, F32, In, Required)           \
  F(bIh, F32, In, Optional)           \
  F(bHh, F32, In, Optional)           \
  F(lengths, I32, In, Optional)       \
  F(y, F32, Out, Required)            \
  F(hN, F32, Out, Required)           \
  F(gates, F32, Out, Optional)        \
  F(cells, F32, Out, Optional)        \
  F(cN, F32, Out, Optional)           \
  F(T, Dim, In, Required)             \
  F(B, Dim, In, Required)             \
  F(I, Dim, In, Required)             \
  F(H, Dim, In, Required)             \
  F(ld, Dim, In, Required)            \
  F(cell, Int, In, Optional)          \
  F(act, Int, In, Required)           \
  F(reverse, Bool, In, Required)

enum class Fwd { FORWARD_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kFwdCount = 0 FORWARD_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kFwdCount> kFwdSpecs{{FORWARD_FIELDS(RNNBLAS_FIELD_SPEC)}};
using FwdFields = Fields<Fwd, kFwdCount>;
constexpr Fwd kFwdOutputs[] = {Fwd::y, Fwd::hN, Fwd::gates, Fwd::cells, Fwd::cN};

RnnShape shape_of(const FwdFields& f) {
  return {f.dim(Fwd::T), f.dim(Fwd::B), f.dim(Fwd::I), f.dim(Fwd::H)};
}

void check_forward(Napi::Env env, const FwdFields& f, const std::string& what) {
  const RnnShape s = shape_of(f);
  const int64_t ld = f.dim(Fwd::ld);
  const int64_t TB = mul(env, s.T, s.B);
  if (TB > INT32_MAX) throw_range(env, what + ": T*B must be below 2^31");
  if (ld < s.H) throw_range(env, what + ".ld must be at least H");
  const CellKind cell = cell_kind(env, f.number(Fwd::cell), what);
  activation(env, f.number(Fwd::act), what);
  const int64_t GH = mul(env, gate_count(cell), s.H);
  if (f[Fwd::bIh].present != f[Fwd::bHh].present) {
    throw_type(env, what + ": bIh and bHh must both be given or both be null");
  }
  const bool gated = cell != CellKind::Elman, lstm = cell == CellKind::Lstm;
  // A gated cell without a gate store runs for inference: no BPTT can follow.
  if (!gated) require_presence(env, f[Fwd::gates], what, false, cell);
  const bool stored = f[Fwd::gates].present;
  if (lstm && f[Fwd::cells].present != stored) {
    throw_type(env, what + ".cells must be given exactly when gates is (the LSTM's BPTT store)");
  }
  if (!lstm) require_presence(env, f[Fwd::cells], what, false, cell);
  require_presence(env, f[Fwd::cN], what, lstm, cell);
  if (f[Fwd::c0].present && !lstm) require_presence(env, f[Fwd::c0], what, false, cell);
  require_length(env, f[Fwd::x], what, mul(env, TB, s.I), "T*B*I");
  require_length(env, f[Fwd::h0], what, mul(env, s.B, s.H), "B*H");
  require_length(env, f[Fwd::c0], what, mul(env, s.B, s.H), "B*H");
  require_length(env, f[Fwd::wIh], what, mul(env, GH, s.I), "G*H*I");
  require_length(env, f[Fwd::wHh], what, mul(env, GH, s.H), "G*H*H");
  require_length(env, f[Fwd::bIh], what, GH, "G*H");
  require_length(env, f[Fwd::bHh], what, GH, "G*H");
  require_length(env, f[Fwd::lengths], what, s.B, "B");
  require_at_least(env, f[Fwd::y], what, strided_size(env, TB, ld, s.H), "(T*B-1)*ld+H");
  require_length(env, f[Fwd::hN], what, mul(env, s.B, s.H), "B*H");
  require_length(env, f[Fwd::gates], what, mul(env, TB, kGatedStoreBlocks * s.H), "T*B*4*H");
  require_length(env, f[Fwd::cells], what, mul(env, TB, s.H), "T*B*H");
  require_length(env, f[Fwd::cN], what, mul(env, s.B, s.H), "B*H");
  require_outputs_disjoint(env, f, what, kFwdOutputs);
}

// Checks of two directions against each other (they run concurrently).
void check_forward_pair(Napi::Env env, const FwdFields& a, const FwdFields& b) {
  const RnnShape sa = shape_of(a), sb = shape_of(b);
  if (sa.T != sb.T || sa.B != sb.B || sa.I != sb.I || sa.H != sb.H ||
      a.dim(Fwd::ld) != b.dim(Fwd::ld) || a.number(Fwd::cell) != b.number(Fwd::cell)) {
    throw_range(env, "forwardLayer: the two directions must have the same cell, T, B, I, H and ld");
  }
  if (!strided_disjoint(a[Fwd::y], b[Fwd::y], a.dim(Fwd::ld), sa.H)) {
    throw_range(env, "forwardLayer: the two directions' y overlap");
  }
  for (Fwd out : kFwdOutputs) {
    for (size_t i = 0; i < kFwdCount; ++i) {
      if (out == Fwd::y && static_cast<Fwd>(i) == Fwd::y) continue;  // checked above
      if (overlaps(a[out], b.arrays[i]) || overlaps(b[out], a.arrays[i])) {
        throw_range(env, std::string("forwardLayer: ") + a[out].spec->name +
                             " of one direction shares memory with " + b.arrays[i].spec->name +
                             " of the other");
      }
    }
  }
}

RnnForwardArgs forward_args(Napi::Env env, const FwdFields& f, const int32_t* lengths) {
  RnnForwardArgs a;
  a.y = f[Fwd::y].as<float>();
  a.hN = f[Fwd::hN].as<float>();
  a.gates = f[Fwd::gates].as<float>();
  a.cells = f[Fwd::cells].as<float>();
  a.cN = f[Fwd::cN].as<float>();
  a.x = f[Fwd::x].as<float>();
  a.h0 = f[Fwd::h0].as<float>();
  a.c0 = f[Fwd::c0].as<float>();
  a.w_ih = f[Fwd::wIh].as<float>();
  a.w_hh = f[Fwd::wHh].as<float>();
  a.b_ih = f[Fwd::bIh].as<float>();
  a.b_hh = f[Fwd::bHh].as<float>();
  a.lengths = lengths;
  a.shape = shape_of(f);
  a.ld = f.dim(Fwd::ld);
  a.cell = cell_kind(env, f.number(Fwd::cell), "forwardLayer");
  a.act = activation(env, f.number(Fwd::act), "forwardLayer");
  a.reverse = f.flag(Fwd::reverse);
  return a;
}

template <typename FieldsT>
std::vector<Array*> arrays_of(std::vector<FieldsT>& dirs) {
  std::vector<Array*> out;
  for (auto& d : dirs) {
    for (auto& a : d.arrays) {
      if (a.spec != nullptr && a.spec->kind != Kind::I32) out.push_back(&a);  // lengths are copied apart
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// backwardLayer([dir, dir?]) and backwardLayerAsync

#define BACKWARD_FIELDS(F)            \
  F(dx, F32, InOut, Optional)         \
  F(dxAssign, Bool, In, Optional)     \
  F(dh0, F32, Out, Optional)          \
  F(dc0, F32, Out, Optional)          \
  F(dwIh, F32, InOut, Required)       \
  F(dwHh, F32, InOut, Required)       \
  F(dbIh, F32, InOut, Optional)       \
  F(dbHh, F32, InOut, Optional)       \
  F(work, F32, Out, Required)         \
  F(trace, F32, Out, Optional)        \
  F(y, F32, In, Required)             \
  F(gates, F32, In, Optional)         \
  F(cells, F32, In, Optional)         \
  F(h0, F32, In, Optional)            \
  F(c0, F32, In, Optional)            \
  F(dy, F32, In, Optional)            \
  F(dhN, F32, In, Optional)           \
  F(dcN, F32, In, Optional)           \
  F(x, F32, In, Required)             \
  F(wIh, F32, In, Required)           \
  F(wHh, F32, In, Required)           \
  F(lengths, I32, In, Optional)       \
  F(T, Dim, In, Required)             \
  F(B, Dim, In, Required)             \
  F(I, Dim, In, Required)             \
  F(H, Dim, In, Required)             \
  F(ld, Dim, In, Required)            \
  F(cell, Int, In, Optional)          \
  F(act, Int, In, Required)           \
  F(reverse, Bool, In, Required)

enum class Bwd { BACKWARD_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kBwdCount = 0 BACKWARD_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kBwdCount> kBwdSpecs{{BACKWARD_FIELDS(RNNBLAS_FIELD_SPEC)}};
using BwdFields = Fields<Bwd, kBwdCount>;
constexpr Bwd kBwdOutputs[] = {Bwd::dx, Bwd::dh0, Bwd::dc0, Bwd::dwIh, Bwd::dwHh,
                               Bwd::dbIh, Bwd::dbHh, Bwd::work, Bwd::trace};

RnnShape shape_of(const BwdFields& f) {
  return {f.dim(Bwd::T), f.dim(Bwd::B), f.dim(Bwd::I), f.dim(Bwd::H)};
}

void check_backward(Napi::Env env, const BwdFields& f, const std::string& what) {
  const RnnShape s = shape_of(f);
  const int64_t ld = f.dim(Bwd::ld);
  const int64_t TB = mul(env, s.T, s.B);
  if (TB > INT32_MAX) throw_range(env, what + ": T*B must be below 2^31");
  if (ld < s.H) throw_range(env, what + ".ld must be at least H");
  const CellKind cell = cell_kind(env, f.number(Bwd::cell), what);
  activation(env, f.number(Bwd::act), what);
  const int64_t GH = mul(env, gate_count(cell), s.H);
  if (f[Bwd::dbIh].present != f[Bwd::dbHh].present) {
    throw_type(env, what + ": dbIh and dbHh must both be given or both be null");
  }
  const bool gated = cell != CellKind::Elman, lstm = cell == CellKind::Lstm;
  require_presence(env, f[Bwd::gates], what, gated, cell);
  require_presence(env, f[Bwd::cells], what, lstm, cell);
  for (Bwd only_lstm : {Bwd::c0, Bwd::dcN, Bwd::dc0}) {
    if (f[only_lstm].present && !lstm) require_presence(env, f[only_lstm], what, false, cell);
  }
  const int64_t strided = strided_size(env, TB, ld, s.H);
  const int64_t BH = mul(env, s.B, s.H);
  require_length(env, f[Bwd::dx], what, mul(env, TB, s.I), "T*B*I");
  require_length(env, f[Bwd::dh0], what, BH, "B*H");
  require_length(env, f[Bwd::dc0], what, BH, "B*H");
  require_length(env, f[Bwd::dwIh], what, mul(env, GH, s.I), "G*H*I");
  require_length(env, f[Bwd::dwHh], what, mul(env, GH, s.H), "G*H*H");
  require_length(env, f[Bwd::dbIh], what, GH, "G*H");
  require_length(env, f[Bwd::dbHh], what, GH, "G*H");
  require_length(env, f[Bwd::trace], what, mul(env, TB, s.H), "T*B*H");
  require_at_least(env, f[Bwd::y], what, strided, "(T*B-1)*ld+H");
  require_length(env, f[Bwd::gates], what, mul(env, TB, kGatedStoreBlocks * s.H), "T*B*4*H");
  require_length(env, f[Bwd::cells], what, mul(env, TB, s.H), "T*B*H");
  require_length(env, f[Bwd::h0], what, BH, "B*H");
  require_length(env, f[Bwd::c0], what, BH, "B*H");
  require_at_least(env, f[Bwd::dy], what, strided, "(T*B-1)*ld+H");
  require_length(env, f[Bwd::dhN], what, BH, "B*H");
  require_length(env, f[Bwd::dcN], what, BH, "B*H");
  require_length(env, f[Bwd::x], what, mul(env, TB, s.I), "T*B*I");
  require_length(env, f[Bwd::wIh], what, mul(env, GH, s.I), "G*H*I");
  require_length(env, f[Bwd::wHh], what, mul(env, GH, s.H), "G*H*H");
  require_length(env, f[Bwd::lengths], what, s.B, "B");
  mul(env, mul(env, TB, GH), 2);  // the workspace size below cannot overflow
  require_at_least(env, f[Bwd::work], what, backward_workspace_size(s, cell),
                   "backwardWorkspaceSize(T, B, I, H, cell)");
  require_outputs_disjoint(env, f, what, kBwdOutputs);
}

void check_backward_pair(Napi::Env env, const BwdFields& a, const BwdFields& b) {
  const RnnShape sa = shape_of(a), sb = shape_of(b);
  if (sa.T != sb.T || sa.B != sb.B || sa.I != sb.I || sa.H != sb.H ||
      a.dim(Bwd::ld) != b.dim(Bwd::ld) || a.number(Bwd::cell) != b.number(Bwd::cell)) {
    throw_range(env, "backwardLayer: the two directions must have the same cell, T, B, I, H and ld");
  }
  if (a[Bwd::dx].data != b[Bwd::dx].data || a[Bwd::dx].length != b[Bwd::dx].length) {
    throw_range(env, "backwardLayer: the two directions must share one dx (or both pass null)");
  }
  if (a.flag(Bwd::dxAssign) != b.flag(Bwd::dxAssign)) {
    throw_range(env, "backwardLayer: the two directions must have the same dxAssign");
  }
  for (Bwd u : kBwdOutputs) {
    for (size_t i = 0; i < kBwdCount; ++i) {
      if (u == Bwd::dx && static_cast<Bwd>(i) == Bwd::dx) continue;
      const Array& other = b.arrays[i];
      if (overlaps(a[u], other)) throw_range(env, "backwardLayer: an output of one direction shares memory with an argument of the other");
      const Array& mine = a.arrays[i];
      if (u != Bwd::dx && overlaps(b[u], mine)) throw_range(env, "backwardLayer: an output of one direction shares memory with an argument of the other");
    }
  }
}

RnnBackwardArgs backward_args(Napi::Env env, const BwdFields& f, const int32_t* lengths) {
  RnnBackwardArgs a;
  a.dx = f[Bwd::dx].as<float>();
  a.dx_assign = f.flag(Bwd::dxAssign);
  a.dh0 = f[Bwd::dh0].as<float>();
  a.dc0 = f[Bwd::dc0].as<float>();
  a.trace = f[Bwd::trace].as<float>();
  a.dw_ih = f[Bwd::dwIh].as<float>();
  a.dw_hh = f[Bwd::dwHh].as<float>();
  a.db_ih = f[Bwd::dbIh].as<float>();
  a.db_hh = f[Bwd::dbHh].as<float>();
  a.y = f[Bwd::y].as<float>();
  a.gates = f[Bwd::gates].as<float>();
  a.cells = f[Bwd::cells].as<float>();
  a.h0 = f[Bwd::h0].as<float>();
  a.c0 = f[Bwd::c0].as<float>();
  a.dy = f[Bwd::dy].as<float>();
  a.dhN = f[Bwd::dhN].as<float>();
  a.dcN = f[Bwd::dcN].as<float>();
  a.x = f[Bwd::x].as<float>();
  a.w_ih = f[Bwd::wIh].as<float>();
  a.w_hh = f[Bwd::wHh].as<float>();
  a.lengths = lengths;
  a.work = f[Bwd::work].as<float>();
  a.shape = shape_of(f);
  a.ld = f.dim(Bwd::ld);
  a.cell = cell_kind(env, f.number(Bwd::cell), "backwardLayer");
  a.act = activation(env, f.number(Bwd::act), "backwardLayer");
  a.reverse = f.flag(Bwd::reverse);
  return a;
}

// The one argument object of a single call, read and converted (fields.h).
template <typename Field, size_t N>
Fields<Field, N> read_call(const Napi::CallbackInfo& info, const std::array<FieldSpec, N>& specs, const char* name) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) throw_type(env, std::string(name) + " expects one argument object");
  return convert_fields<Field>(env, read_properties(env, info[0], specs, name), specs, name);
}

// ---------------------------------------------------------------------------
// The layer calls: read every direction, check each and the pair, hold the
// memory (async), copy the lengths, run.

struct ForwardCall {
  using Field = Fwd;
  using FieldsT = FwdFields;
  using Args = RnnForwardArgs;
  static constexpr const char* kName = "forwardLayer";
  static const std::array<FieldSpec, kFwdCount>& specs() { return kFwdSpecs; }
  static void check(Napi::Env env, const FieldsT& f, const std::string& what) { check_forward(env, f, what); }
  static void check_pair(Napi::Env env, const FieldsT& a, const FieldsT& b) { check_forward_pair(env, a, b); }
  static Args args(Napi::Env env, const FieldsT& f, const int32_t* lengths) { return forward_args(env, f, lengths); }
  static void run(const ExecContext& ctx, const Args* dirs, int count) { rnn_forward_layer(ctx, dirs, count); }
};

struct BackwardCall {
  using Field = Bwd;
  using FieldsT = BwdFields;
  using Args = RnnBackwardArgs;
  static constexpr const char* kName = "backwardLayer";
  static const std::array<FieldSpec, kBwdCount>& specs() { return kBwdSpecs; }
  static void check(Napi::Env env, const FieldsT& f, const std::string& what) { check_backward(env, f, what); }
  static void check_pair(Napi::Env env, const FieldsT& a, const FieldsT& b) { check_backward_pair(env, a, b); }
  static Args args(Napi::Env env, const FieldsT& f, const int32_t* lengths) { return backward_args(env, f, lengths); }
  static void run(const ExecContext& ctx, const Args* dirs, int count) { rnn_backward_layer(ctx, dirs, count); }
};

// One layer call's direction objects with every property read (phase 1: JS
// getters run only here, before any conversion of any call of a batch).
template <typename Call>
struct LayerValues {
  std::vector<std::string> names;  // "forwardLayer[0]", for messages
  std::vector<std::array<napi_value, std::tuple_size_v<std::decay_t<decltype(Call::specs())>>>> values;
};

template <typename Call>
LayerValues<Call> read_layer(Napi::Env env, Napi::Value list, const std::string& what) {
  const auto objects = direction_objects(env, list, what);
  LayerValues<Call> v;
  for (size_t d = 0; d < objects.size(); ++d) v.names.push_back(what + "[" + std::to_string(d) + "]");
  for (size_t d = 0; d < objects.size(); ++d) v.values.push_back(read_properties(env, objects[d], Call::specs(), v.names[d]));
  return v;
}

// Phase 2: converted and checked (each direction, and the pair).
template <typename Call>
std::vector<typename Call::FieldsT> convert_layer(Napi::Env env, const LayerValues<Call>& v) {
  std::vector<typename Call::FieldsT> dirs;
  for (size_t d = 0; d < v.values.size(); ++d) {
    dirs.push_back(convert_fields<typename Call::Field>(env, v.values[d], Call::specs(), v.names[d]));
    Call::check(env, dirs.back(), v.names[d]);
  }
  if (dirs.size() == 2) Call::check_pair(env, dirs[0], dirs[1]);
  return dirs;
}

// Phase 3 (after the memory is held): the kernels' arguments, with private
// copies of the lengths.
template <typename Call>
struct LayerArgs {
  std::vector<std::shared_ptr<std::vector<int32_t>>> lengths;
  std::vector<typename Call::Args> args;
  void run(const ExecContext& ctx) const { Call::run(ctx, args.data(), static_cast<int>(args.size())); }
};

template <typename Call>
LayerArgs<Call> layer_args(Napi::Env env, const std::vector<typename Call::FieldsT>& dirs, const LayerValues<Call>& v) {
  using Field = typename Call::Field;
  LayerArgs<Call> a;
  for (size_t d = 0; d < dirs.size(); ++d) {
    a.lengths.push_back(copy_lengths(env, dirs[d][Field::lengths], dirs[d].dim(Field::T), v.names[d]));
    a.args.push_back(Call::args(env, dirs[d], a.lengths.back() ? a.lengths.back()->data() : nullptr));
  }
  return a;
}

template <typename Call>
Napi::Value layer_call(const Napi::CallbackInfo& info, Mode mode) {
  Napi::Env env = info.Env();
  if (info.Length() != 1) throw_type(env, std::string(Call::kName) + " expects an array of one or two direction objects");
  const auto values = read_layer<Call>(env, info[0], Call::kName);
  auto dirs = convert_layer<Call>(env, values);
  auto kept = std::make_unique<Kept>();
  if (mode == Mode::Async) kept->keep(env, arrays_of(dirs));
  auto call = layer_args<Call>(env, dirs, values);
  const ExecContext ctx = env_state(env).ctx;
  return dispatch(env, mode, std::move(kept), [ctx, call] { call.run(ctx); });
}

// ---------------------------------------------------------------------------
// sgemm({...}) and sgemmAsync: row-major C = alpha op(A) op(B) + beta C

#define SGEMM_FIELDS(F)         \
  F(transA, Bool, In, Required) \
  F(transB, Bool, In, Required) \
  F(M, Dim, In, Required)       \
  F(N, Dim, In, Required)       \
  F(K, Dim, In, Required)       \
  F(alpha, Number, In, Required) \
  F(A, F32, In, Required)       \
  F(lda, Dim, In, Required)     \
  F(B, F32, In, Required)       \
  F(ldb, Dim, In, Required)     \
  F(beta, Number, In, Required) \
  F(C, F32, InOut, Required)    \
  F(ldc, Dim, In, Required)

enum class Gemm { SGEMM_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kGemmCount = 0 SGEMM_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kGemmCount> kGemmSpecs{{SGEMM_FIELDS(RNNBLAS_FIELD_SPEC)}};
using GemmFields = Fields<Gemm, kGemmCount>;

// Checks a call's sizes (before any memory is held).
void check_sgemm(Napi::Env env, const GemmFields& f, const std::string& what) {
  const bool ta = f.flag(Gemm::transA), tb = f.flag(Gemm::transB);
  const int64_t M = f.dim(Gemm::M), N = f.dim(Gemm::N), K = f.dim(Gemm::K);
  const int64_t lda = f.dim(Gemm::lda), ldb = f.dim(Gemm::ldb), ldc = f.dim(Gemm::ldc);
  // Row-major op(A) is M x K; stored as rows x cols with leading dimension lda.
  const int64_t a_rows = ta ? K : M, a_cols = ta ? M : K;
  const int64_t b_rows = tb ? N : K, b_cols = tb ? K : N;
  if (lda < a_cols) throw_range(env, what + ".lda is smaller than A's row length");
  if (ldb < b_cols) throw_range(env, what + ".ldb is smaller than B's row length");
  if (ldc < N) throw_range(env, what + ".ldc is smaller than N");
  require_at_least(env, f[Gemm::A], what, strided_size(env, a_rows, lda, a_cols), "rows*lda");
  require_at_least(env, f[Gemm::B], what, strided_size(env, b_rows, ldb, b_cols), "rows*ldb");
  require_at_least(env, f[Gemm::C], what, strided_size(env, M, ldc, N), "M*ldc");
  require_disjoint(env, what, f[Gemm::C], {&f[Gemm::A], &f[Gemm::B]});
}

std::vector<Array*> gemm_arrays(GemmFields& f) {
  return {&f.arrays[static_cast<size_t>(Gemm::A)], &f.arrays[static_cast<size_t>(Gemm::B)], &f.arrays[static_cast<size_t>(Gemm::C)]};
}

// A checked call's arguments (after the memory is held: pointers into it).
struct SgemmOp {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  const float* a;
  const float* b;
  float* c;
  explicit SgemmOp(const GemmFields& f)
      : ta(f.flag(Gemm::transA)), tb(f.flag(Gemm::transB)), M(f.dim(Gemm::M)), N(f.dim(Gemm::N)), K(f.dim(Gemm::K)),
        lda(f.dim(Gemm::lda)), ldb(f.dim(Gemm::ldb)), ldc(f.dim(Gemm::ldc)),
        alpha(static_cast<float>(f.number(Gemm::alpha))), beta(static_cast<float>(f.number(Gemm::beta))),
        a(f[Gemm::A].as<float>()), b(f[Gemm::B].as<float>()), c(f[Gemm::C].as<float>()) {}
  void run(const ExecContext& ctx) const { team_sgemm(ctx, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc); }
};

Napi::Value sgemm(const Napi::CallbackInfo& info, Mode mode) {
  Napi::Env env = info.Env();
  auto f = read_call<Gemm>(info, kGemmSpecs, "sgemm");
  check_sgemm(env, f, "sgemm");
  auto kept = std::make_unique<Kept>();
  if (mode == Mode::Async) kept->keep(env, gemm_arrays(f));
  const SgemmOp op(f);
  const ExecContext ctx = env_state(env).ctx;
  return dispatch(env, mode, std::move(kept), [ctx, op] { op.run(ctx); });
}

// ---------------------------------------------------------------------------
// Losses (synchronous: one pass over the logits)

// In a job (layersAsync) the summed loss goes to `loss` (a Float64Array of
// one element); the synchronous calls return it.
#define SOFTMAX_CE_FIELDS(F)          \
  F(logits, F32, In, Required)        \
  F(targets, I32, In, Required)       \
  F(mask, U8, In, Optional)           \
  F(N, Dim, In, Required)             \
  F(C, Dim, In, Required)             \
  F(ignoreIndex, Int, In, Required)   \
  F(scale, Number, In, Required)      \
  F(grad, F32, Out, Required)         \
  F(loss, F64, Out, Optional)

enum class Sce { SOFTMAX_CE_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kSceCount = 0 SOFTMAX_CE_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kSceCount> kSceSpecs{{SOFTMAX_CE_FIELDS(RNNBLAS_FIELD_SPEC)}};
using SceFields = Fields<Sce, kSceCount>;

// Checks the sizes and every counted target; returns a private copy of the
// targets (they index the logits: the kernel must not see them change).
std::shared_ptr<std::vector<int32_t>> check_sce(Napi::Env env, const SceFields& f, const std::string& what) {
  const int64_t N = f.dim(Sce::N), C = f.dim(Sce::C);
  require_length(env, f[Sce::logits], what, mul(env, N, C), "N*C");
  require_length(env, f[Sce::targets], what, N, "N");
  require_length(env, f[Sce::mask], what, N, "N");
  require_length(env, f[Sce::grad], what, mul(env, N, C), "N*C");
  require_length(env, f[Sce::loss], what, 1, "one summed loss");
  require_disjoint(env, what, f[Sce::grad], {&f[Sce::logits], &f[Sce::targets], &f[Sce::mask], &f[Sce::loss]});
  require_disjoint(env, what, f[Sce::loss], {&f[Sce::logits], &f[Sce::targets], &f[Sce::mask]});
  const int32_t ignore_index = static_cast<int32_t>(f.number(Sce::ignoreIndex));
  auto targets = std::make_shared<std::vector<int32_t>>(f[Sce::targets].as<int32_t>(), f[Sce::targets].as<int32_t>() + N);
  const uint8_t* m = f[Sce::mask].as<uint8_t>();
  for (int64_t n = 0; n < N; ++n) {
    const int32_t t = (*targets)[n];
    if (m != nullptr && m[n] == 0) continue;
    if (t != ignore_index && (t < 0 || t >= C)) {
      throw_range(env, what + ".targets[" + std::to_string(n) + "] is " + std::to_string(t) +
                           ", expected 0.." + std::to_string(C - 1));
    }
  }
  return targets;
}

std::vector<Array*> sce_arrays(SceFields& f) {
  return {&f.arrays[static_cast<size_t>(Sce::logits)], &f.arrays[static_cast<size_t>(Sce::mask)],
          &f.arrays[static_cast<size_t>(Sce::grad)], &f.arrays[static_cast<size_t>(Sce::loss)]};
}

struct SoftmaxCeOp {
  const float* x;
  std::shared_ptr<std::vector<int32_t>> targets;
  const uint8_t* m;
  int64_t N, C;
  int32_t ignore_index;
  double scale;
  float* g;
  double* loss;
  SoftmaxCeOp(const SceFields& f, std::shared_ptr<std::vector<int32_t>> t)
      : x(f[Sce::logits].as<float>()), targets(std::move(t)), m(f[Sce::mask].as<uint8_t>()), N(f.dim(Sce::N)), C(f.dim(Sce::C)),
        ignore_index(static_cast<int32_t>(f.number(Sce::ignoreIndex))), scale(f.number(Sce::scale)),
        g(f[Sce::grad].as<float>()), loss(f[Sce::loss].as<double>()) {}
  double run(const ExecContext& ctx) const {
    const float* xs = x;
    const int32_t* t = targets->data();
    const uint8_t* ms = m;
    float* gs = g;
    const int64_t C_ = C;
    const int32_t ig = ignore_index;
    const double sc = scale;
    const double total = team_sum(ctx, N, 1, N * C, [=](int64_t r0, int64_t r1) {
      return softmax_cross_entropy(xs + r0 * C_, t + r0, ms ? ms + r0 : nullptr, r1 - r0, C_, ig, sc, gs + r0 * C_);
    });
    if (loss != nullptr) *loss = total;
    return total;
  }
};

// softmaxCrossEntropy({...}) -> summed loss
Napi::Value softmax_cross_entropy_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto f = read_call<Sce>(info, kSceSpecs, "softmaxCrossEntropy");
  const SoftmaxCeOp op(f, check_sce(env, f, "softmaxCrossEntropy"));
  return Napi::Number::New(env, op.run(env_state(env).ctx));
}

#define SQUARED_ERROR_FIELDS(F)  \
  F(pred, F32, In, Required)     \
  F(target, F32, In, Required)   \
  F(mask, U8, In, Optional)      \
  F(rows, Dim, In, Required)     \
  F(inner, Dim, In, Required)    \
  F(scale, Number, In, Required) \
  F(grad, F32, Out, Required)    \
  F(loss, F64, Out, Optional)

enum class Sqe { SQUARED_ERROR_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kSqeCount = 0 SQUARED_ERROR_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kSqeCount> kSqeSpecs{{SQUARED_ERROR_FIELDS(RNNBLAS_FIELD_SPEC)}};
using SqeFields = Fields<Sqe, kSqeCount>;

void check_sqe(Napi::Env env, const SqeFields& f, const std::string& what) {
  const int64_t n = mul(env, f.dim(Sqe::rows), f.dim(Sqe::inner));
  require_length(env, f[Sqe::pred], what, n, "rows*inner");
  require_length(env, f[Sqe::target], what, n, "rows*inner");
  require_length(env, f[Sqe::mask], what, f.dim(Sqe::rows), "rows");
  require_length(env, f[Sqe::grad], what, n, "rows*inner");
  require_length(env, f[Sqe::loss], what, 1, "one summed loss");
  require_disjoint(env, what, f[Sqe::grad], {&f[Sqe::pred], &f[Sqe::target], &f[Sqe::mask], &f[Sqe::loss]});
  require_disjoint(env, what, f[Sqe::loss], {&f[Sqe::pred], &f[Sqe::target], &f[Sqe::mask]});
}

std::vector<Array*> sqe_arrays(SqeFields& f) {
  return {&f.arrays[static_cast<size_t>(Sqe::pred)], &f.arrays[static_cast<size_t>(Sqe::target)],
          &f.arrays[static_cast<size_t>(Sqe::mask)], &f.arrays[static_cast<size_t>(Sqe::grad)],
          &f.arrays[static_cast<size_t>(Sqe::loss)]};
}

struct SquaredErrorOp {
  const float* p;
  const float* t;
  const uint8_t* m;
  int64_t rows, inner;
  double scale;
  float* g;
  double* loss;
  explicit SquaredErrorOp(const SqeFields& f)
      : p(f[Sqe::pred].as<float>()), t(f[Sqe::target].as<float>()), m(f[Sqe::mask].as<uint8_t>()), rows(f.dim(Sqe::rows)),
        inner(f.dim(Sqe::inner)), scale(f.number(Sqe::scale)), g(f[Sqe::grad].as<float>()), loss(f[Sqe::loss].as<double>()) {}
  double run(const ExecContext& ctx) const {
    const float* ps = p;
    const float* ts = t;
    const uint8_t* ms = m;
    float* gs = g;
    const int64_t in = inner;
    const double sc = scale;
    const double total = team_sum(ctx, rows, 1, rows * inner, [=](int64_t r0, int64_t r1) {
      return squared_error(ps + r0 * in, ts + r0 * in, ms ? ms + r0 : nullptr, r1 - r0, in, sc, gs + r0 * in);
    });
    if (loss != nullptr) *loss = total;
    return total;
  }
};

// squaredError({...}) -> summed squared error
Napi::Value squared_error_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto f = read_call<Sqe>(info, kSqeSpecs, "squaredError");
  check_sqe(env, f, "squaredError");
  return Napi::Number::New(env, SquaredErrorOp(f).run(env_state(env).ctx));
}

// ---------------------------------------------------------------------------
// Embedding lookups and their gradient: ops of a training step's job (there is
// no synchronous export; the TypeScript layer runs its own loops outside jobs).

#define EMBED_FWD_FIELDS(F)      \
  F(ids, I32, In, Required)      \
  F(weight, F32, In, Required)   \
  F(out, F32, Out, Required)     \
  F(V, Dim, In, Required)        \
  F(E, Dim, In, Required)

enum class Emf { EMBED_FWD_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kEmfCount = 0 EMBED_FWD_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kEmfCount> kEmfSpecs{{EMBED_FWD_FIELDS(RNNBLAS_FIELD_SPEC)}};

#define EMBED_BWD_FIELDS(F)      \
  F(ids, I32, In, Required)      \
  F(gy, F32, In, Required)       \
  F(grad, F32, InOut, Required)  \
  F(V, Dim, In, Required)        \
  F(E, Dim, In, Required)

enum class Emb { EMBED_BWD_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kEmbCount = 0 EMBED_BWD_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kEmbCount> kEmbSpecs{{EMBED_BWD_FIELDS(RNNBLAS_FIELD_SPEC)}};

// The ids index the table: checked on a private copy (at least one id).
std::shared_ptr<std::vector<int32_t>> checked_ids(Napi::Env env, const Array& ids, int64_t V, const std::string& what) {
  if (ids.length < 1) throw_range(env, what + ".ids has no elements, expected at least 1");
  auto copy = std::make_shared<std::vector<int32_t>>(ids.as<int32_t>(), ids.as<int32_t>() + ids.length);
  for (size_t i = 0; i < copy->size(); ++i) {
    const int32_t id = (*copy)[i];
    if (id < 0 || id >= V) {
      throw_range(env, what + ".ids[" + std::to_string(i) + "] is " + std::to_string(id) + ", expected 0.." + std::to_string(V - 1));
    }
  }
  return copy;
}

// ---------------------------------------------------------------------------
// layersAsync([call, ...]): calls run in order as ONE job on the libuv pool,
// so that a model pass (or a whole training step: the embedding lookup, the
// recurrent layers, the head's GEMMs, the loss and the backward pass) costs
// one hand-off between threads instead of one per call (each is a thread
// wake-up, milliseconds on a busy machine). A call is a layer call
// { backward, dirs: [dir, dir?] } or an op { op: 'sgemm' |
// 'softmaxCrossEntropy' | 'squaredError' | 'embeddingForward' |
// 'embeddingBackward', ... } with the fields of the synchronous call (the
// losses write their sum to `loss`). Every call is read and checked as a
// single one would be, all before any runs; the memory of all of them is held
// together (a foreign buffer one call writes and a later one reads is the same
// copy).

using JobStep = std::function<void(const ExecContext&)>;

// One call of a job, in the three phases of layers_async.
class JobCall {
 public:
  virtual ~JobCall() = default;
  // Phase 2: convert what phase 1 read, and check it (no JS runs).
  virtual void convert(Napi::Env env) = 0;
  // The arrays to hold for the job.
  virtual void arrays(std::vector<Array*>& out) = 0;
  // Phase 3 (the memory held): the kernel call, on pointers into it.
  virtual JobStep bind(Napi::Env env) = 0;
};

template <typename Call>
class LayerJobCall final : public JobCall {
 public:
  LayerJobCall(Napi::Env env, Napi::Value dirs, const std::string& what) : values_(read_layer<Call>(env, dirs, what)) {}
  void convert(Napi::Env env) override { dirs_ = convert_layer<Call>(env, values_); }
  void arrays(std::vector<Array*>& out) override {
    for (Array* a : arrays_of(dirs_)) out.push_back(a);
  }
  JobStep bind(Napi::Env env) override {
    auto call = layer_args<Call>(env, dirs_, values_);
    return [call](const ExecContext& ctx) { call.run(ctx); };
  }

 private:
  LayerValues<Call> values_;
  std::vector<typename Call::FieldsT> dirs_;
};

// An op read by one descriptor table; Check(env, fields, what) checks it
// (returning what it keeps apart: private copies), Bind makes the step.
template <typename Field, size_t N, typename Private>
class FieldJobCall final : public JobCall {
 public:
  using FieldsT = Fields<Field, N>;
  using Check = Private (*)(Napi::Env, const FieldsT&, const std::string&);
  using Bind = JobStep (*)(const FieldsT&, const Private&);
  using Hold = std::vector<Array*> (*)(FieldsT&);
  FieldJobCall(Napi::Env env, Napi::Value object, const std::array<FieldSpec, N>& specs, std::string what, Check check, Hold hold, Bind bind)
      : specs_(specs), what_(std::move(what)), check_(check), hold_(hold), bind_(bind), values_(read_properties(env, object, specs, what_)) {}
  void convert(Napi::Env env) override {
    f_ = convert_fields<Field>(env, values_, specs_, what_);
    private_ = check_(env, f_, what_);
  }
  void arrays(std::vector<Array*>& out) override {
    for (Array* a : hold_(f_)) out.push_back(a);
  }
  JobStep bind(Napi::Env) override { return bind_(f_, private_); }

 private:
  const std::array<FieldSpec, N>& specs_;
  std::string what_;
  Check check_;
  Hold hold_;
  Bind bind_;
  std::array<napi_value, N> values_;
  FieldsT f_;
  Private private_;
};

struct NoPrivate {};
using Targets = std::shared_ptr<std::vector<int32_t>>;

template <typename F, typename E>
void require_loss_slot(Napi::Env env, const F& f, E loss, const std::string& what) {
  if (!f[loss].present) throw_type(env, "expected a Float64Array for " + what + ".loss");
}

// The two embedding ops: a table of V*E floats, rows of ids.length*E, and a
// kernel(ids, n, from, E, to) reading one and writing the other (the lookup
// reads the table, its gradient writes it).
template <typename Field, size_t N, const std::array<FieldSpec, N>& Specs, Field kTable, Field kRows, bool kReadsTable,
          void (*Kernel)(const int32_t*, int64_t, const float*, int64_t, float*)>
std::unique_ptr<JobCall> embedding_op(Napi::Env env, const Napi::Object& obj, const std::string& what) {
  using F = Fields<Field, N>;
  return std::make_unique<FieldJobCall<Field, N, Targets>>(
      env, obj, Specs, what,
      [](Napi::Env e, const F& f, const std::string& w) {
        const int64_t V = f.dim(Field::V), E = f.dim(Field::E);
        require_length(e, f[kTable], w, mul(e, V, E), "V*E");
        auto ids = checked_ids(e, f[Field::ids], V, w);
        require_length(e, f[kRows], w, mul(e, static_cast<int64_t>(ids->size()), E), "ids.length*E");
        require_disjoint(e, w, f[kReadsTable ? kRows : kTable], {&f[kReadsTable ? kTable : kRows]});
        return ids;
      },
      [](F& f) -> std::vector<Array*> { return {&f.arrays[static_cast<size_t>(kTable)], &f.arrays[static_cast<size_t>(kRows)]}; },
      [](const F& f, const Targets& ids) -> JobStep {
        const float* from = f[kReadsTable ? kTable : kRows].template as<float>();
        float* to = f[kReadsTable ? kRows : kTable].template as<float>();
        const int64_t E = f.dim(Field::E);
        return [ids, from, to, E](const ExecContext&) { Kernel(ids->data(), static_cast<int64_t>(ids->size()), from, E, to); };
      });
}

std::unique_ptr<JobCall> job_op(Napi::Env env, const Napi::Object& obj, const std::string& name, const std::string& what) {
  if (name == "sgemm") {
    return std::make_unique<FieldJobCall<Gemm, kGemmCount, NoPrivate>>(
        env, obj, kGemmSpecs, what,
        [](Napi::Env e, const GemmFields& f, const std::string& w) { check_sgemm(e, f, w); return NoPrivate{}; },
        gemm_arrays,
        [](const GemmFields& f, const NoPrivate&) -> JobStep { const SgemmOp op(f); return [op](const ExecContext& ctx) { op.run(ctx); }; });
  }
  if (name == "softmaxCrossEntropy") {
    return std::make_unique<FieldJobCall<Sce, kSceCount, Targets>>(
        env, obj, kSceSpecs, what,
        [](Napi::Env e, const SceFields& f, const std::string& w) { require_loss_slot(e, f, Sce::loss, w); return check_sce(e, f, w); },
        sce_arrays,
        [](const SceFields& f, const Targets& t) -> JobStep { const SoftmaxCeOp op(f, t); return [op](const ExecContext& ctx) { op.run(ctx); }; });
  }
  if (name == "squaredError") {
    return std::make_unique<FieldJobCall<Sqe, kSqeCount, NoPrivate>>(
        env, obj, kSqeSpecs, what,
        [](Napi::Env e, const SqeFields& f, const std::string& w) { require_loss_slot(e, f, Sqe::loss, w); check_sqe(e, f, w); return NoPrivate{}; },
        sqe_arrays,
        [](const SqeFields& f, const NoPrivate&) -> JobStep { const SquaredErrorOp op(f); return [op](const ExecContext& ctx) { op.run(ctx); }; });
  }
  if (name == "embeddingForward") {
    return embedding_op<Emf, kEmfCount, kEmfSpecs, Emf::weight, Emf::out, true, embedding_gather>(env, obj, what);
  }
  if (name == "embeddingBackward") {
    return embedding_op<Emb, kEmbCount, kEmbSpecs, Emb::grad, Emb::gy, false, embedding_scatter_add>(env, obj, what);
  }
  throw_type(env, what + ".op must be 'sgemm', 'softmaxCrossEntropy', 'squaredError', 'embeddingForward' or 'embeddingBackward'");
}

Napi::Value layers_async(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsArray()) throw_type(env, "layersAsync expects an array of layer calls");
  const auto list = info[0].As<Napi::Array>();
  const uint32_t n = list.Length();
  if (n == 0 || n > 4096) throw_range(env, "layersAsync takes 1..4096 layer calls, got " + std::to_string(n));
  // Phase 1 for every call before any conversion (JS getters run only here).
  std::vector<std::unique_ptr<JobCall>> calls;
  for (uint32_t i = 0; i < n; ++i) {
    const Napi::Value item = list.Get(i);
    const std::string what = "layersAsync[" + std::to_string(i) + "]";
    if (!item.IsObject()) throw_type(env, what + " must be an object { backward, dirs } or { op, ... }");
    const auto obj = item.As<Napi::Object>();
    const Napi::Value op = obj.Get("op");
    if (!op.IsUndefined()) {
      calls.push_back(job_op(env, obj, op.IsString() ? op.As<Napi::String>().Utf8Value() : std::string(), what));
      continue;
    }
    const Napi::Value flag = obj.Get("backward");
    if (!flag.IsBoolean()) throw_type(env, what + ".backward must be a boolean");
    const Napi::Value dirs = obj.Get("dirs");
    if (flag.As<Napi::Boolean>().Value()) calls.push_back(std::make_unique<LayerJobCall<BackwardCall>>(env, dirs, what + ".dirs"));
    else calls.push_back(std::make_unique<LayerJobCall<ForwardCall>>(env, dirs, what + ".dirs"));
  }
  // Phase 2: converted and checked, in order.
  for (auto& c : calls) c->convert(env);
  std::vector<Array*> arrays;
  for (auto& c : calls) c->arrays(arrays);
  auto kept = std::make_unique<Kept>();
  kept->keep(env, arrays);
  // Phase 3: the kernels' arguments, pointing into the held memory.
  std::vector<JobStep> steps;
  for (auto& c : calls) steps.push_back(c->bind(env));
  const ExecContext ctx = env_state(env).ctx;
  return dispatch(env, Mode::Async, std::move(kept), [ctx, steps] {
    for (const JobStep& step : steps) step(ctx);
  });
}

// ---------------------------------------------------------------------------
// An elementwise update of n elements split over the thread team by ranges (the same bits however
// it is split); `cost` weighs an element against one touched float for the solo threshold.

template <typename Run>
void split_elementwise(Napi::Env env, int64_t n, int64_t cost, const Run& run) {
  if (n <= 0) return;
  team_sum(env_state(env).ctx, n, 16, mul(env, n, cost), [&run](int64_t r0, int64_t r1) {
    run(r0, r1);
    return 0.0;
  });
}

// ---------------------------------------------------------------------------
// adamStep({...}): one parameter's Adam/AdamW update, in place (synchronous)

#define ADAM_FIELDS(F)             \
  F(p, F32, InOut, Required)       \
  F(d, F32, In, Required)          \
  F(m, F32, InOut, Required)       \
  F(v, F32, InOut, Required)       \
  F(vmax, F32, InOut, Optional)    \
  F(beta1, Number, In, Required)   \
  F(beta2, Number, In, Required)   \
  F(stepSize, Number, In, Required) \
  F(bc2Sqrt, Number, In, Required) \
  F(eps, Number, In, Required)     \
  F(shrink, Number, In, Required)

enum class Adm { ADAM_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kAdmCount = 0 ADAM_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kAdmCount> kAdmSpecs{{ADAM_FIELDS(RNNBLAS_FIELD_SPEC)}};

Napi::Value adam_step_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto f = read_call<Adm>(info, kAdmSpecs, "adamStep");
  const std::string what = "adamStep";
  const int64_t n = f[Adm::p].length;
  for (Adm a : {Adm::d, Adm::m, Adm::v, Adm::vmax}) require_length(env, f[a], what, n, "p.length");
  for (Adm out : {Adm::p, Adm::m, Adm::v, Adm::vmax}) {
    require_disjoint(env, what, f[out], {&f[Adm::p], &f[Adm::d], &f[Adm::m], &f[Adm::v], &f[Adm::vmax]});
  }
  AdamStep a;
  a.p = f[Adm::p].as<float>();
  a.d = f[Adm::d].as<float>();
  a.m = f[Adm::m].as<float>();
  a.v = f[Adm::v].as<float>();
  a.vmax = f[Adm::vmax].as<float>();
  a.n = n;
  a.beta1 = f.number(Adm::beta1);
  a.beta2 = f.number(Adm::beta2);
  a.step_size = f.number(Adm::stepSize);
  a.bc2_sqrt = f.number(Adm::bc2Sqrt);
  a.eps = f.number(Adm::eps);
  a.shrink = f.number(Adm::shrink);
  // float32 sqrt and division make an element cost about as much as 4 touched floats.
  split_elementwise(env, n, 4, [&a](int64_t r0, int64_t r1) { adam_step(a.slice(r0, r1)); });
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// sgdStep({...}): one parameter's SGD update (plain, momentum or Nesterov), in place (synchronous)

#define SGD_FIELDS(F)               \
  F(p, F32, InOut, Required)        \
  F(d, F32, In, Required)           \
  F(buf, F32, InOut, Optional)      \
  F(lr, Number, In, Required)       \
  F(momentum, Number, In, Required) \
  F(keep, Number, In, Required)     \
  F(nesterov, Bool, In, Required)

enum class Sgd { SGD_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kSgdCount = 0 SGD_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kSgdCount> kSgdSpecs{{SGD_FIELDS(RNNBLAS_FIELD_SPEC)}};

Napi::Value sgd_step_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto f = read_call<Sgd>(info, kSgdSpecs, "sgdStep");
  const std::string what = "sgdStep";
  const int64_t n = f[Sgd::p].length;
  for (Sgd a : {Sgd::d, Sgd::buf}) require_length(env, f[a], what, n, "p.length");
  for (Sgd out : {Sgd::p, Sgd::buf}) require_disjoint(env, what, f[out], {&f[Sgd::p], &f[Sgd::d], &f[Sgd::buf]});
  SgdStep s;
  s.p = f[Sgd::p].as<float>();
  s.d = f[Sgd::d].as<float>();
  s.buf = f[Sgd::buf].as<float>();
  s.n = n;
  s.lr = f.number(Sgd::lr);
  s.momentum = f.number(Sgd::momentum);
  s.keep = f.number(Sgd::keep);
  s.nesterov = f.flag(Sgd::nesterov);
  if (s.nesterov && s.buf == nullptr) throw_type(env, "expected a Float32Array for sgdStep.buf (a Nesterov step needs its momentum buffer)");
  // Memory-bound: about 2 touched floats' worth an element.
  split_elementwise(env, n, 2, [&s](int64_t r0, int64_t r1) { sgd_step(s.slice(r0, r1)); });
  return env.Undefined();
}

// ---------------------------------------------------------------------------
// addSquares({ g, s0 }) -> s0 + sum g^2 and scaleInPlace({ g, coef }): clipGradNorm's passes
// (synchronous; the same bits as its TypeScript loops, native/optim.h)

#define ADD_SQUARES_FIELDS(F) \
  F(g, F32, In, Required)     \
  F(s0, Number, In, Required)

enum class Sqs { ADD_SQUARES_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kSqsCount = 0 ADD_SQUARES_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kSqsCount> kSqsSpecs{{ADD_SQUARES_FIELDS(RNNBLAS_FIELD_SPEC)}};

Napi::Value add_squares_js(const Napi::CallbackInfo& info) {
  const auto f = read_call<Sqs>(info, kSqsSpecs, "addSquares");
  return Napi::Number::New(info.Env(), add_squares(f[Sqs::g].as<float>(), f[Sqs::g].length, f.number(Sqs::s0)));
}

#define SCALE_FIELDS(F)         \
  F(g, F32, InOut, Required)    \
  F(coef, Number, In, Required)

enum class Scl { SCALE_FIELDS(RNNBLAS_FIELD_ENUM) };
constexpr size_t kSclCount = 0 SCALE_FIELDS(RNNBLAS_FIELD_COUNT);
const std::array<FieldSpec, kSclCount> kSclSpecs{{SCALE_FIELDS(RNNBLAS_FIELD_SPEC)}};

Napi::Value scale_in_place_js(const Napi::CallbackInfo& info) {
  const auto f = read_call<Scl>(info, kSclSpecs, "scaleInPlace");
  if (f[Scl::g].length > 0) scale_in_place(f[Scl::g].as<float>(), f[Scl::g].length, f.number(Scl::coef));
  return info.Env().Undefined();
}

// ---------------------------------------------------------------------------
// Memory and settings

// alloc(n[, zeroed = true]): a Float32Array of n floats on native-owned memory
// (async calls use it in place instead of copying); zeroed false leaves the
// contents unspecified, for an output a call writes in full.
Napi::Value alloc_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const bool has_fill = info.Length() == 2 && info[1].IsBoolean();
  if ((info.Length() != 1 && !has_fill) || !info[0].IsNumber()) {
    throw_type(env, "alloc expects a number of floats and an optional boolean (zeroed)");
  }
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 2147483647.0) || n != static_cast<double>(static_cast<int64_t>(n))) {
    throw_range(env, "alloc: expected an integer in 1..2147483647 floats");
  }
  const bool zeroed = !has_fill || info[1].As<Napi::Boolean>().Value();
  return alloc_f32(env, static_cast<size_t>(n), zeroed ? Fill::Zeros : Fill::Unspecified,
                   env_state(env).external);
}

Napi::Value blas_info_js(const Napi::CallbackInfo& info) {
  const BlasInfo b = blas_info();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("version", b.version);
  o.Set("config", b.config);
  o.Set("core", b.core);
  o.Set("numThreads", env_state(info.Env()).ctx.threads);
  o.Set("availableCpus", available_cpus());
  o.Set("numProcs", b.num_procs);
  o.Set("parallel", b.parallel);
  return o;
}

// setNumThreads(n): this environment's thread count, capped at the CPUs the
// process may use. Returns the count in effect.
Napi::Value set_num_threads_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) throw_type(env, "setNumThreads expects a number");
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 1024) || n != static_cast<double>(static_cast<int64_t>(n))) {
    throw_range(env, "setNumThreads: expected an integer in 1..1024");
  }
  EnvState& s = env_state(env);
  s.ctx.threads = std::min(static_cast<int>(n), available_cpus());
  if (s.ctx.gemm == GemmThreading::OpenBlas) set_openblas_threads(s.ctx.threads);
  return Napi::Number::New(env, s.ctx.threads);
}

// setFlushDenormals(on): whether this environment's calls flush subnormal
// floats to zero (default true; see ExecContext::flush_denormals).
Napi::Value set_flush_denormals_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsBoolean()) throw_type(env, "setFlushDenormals expects a boolean");
  env_state(env).ctx.flush_denormals = info[0].As<Napi::Boolean>().Value();
  return env.Undefined();
}

Napi::Value get_flush_denormals_js(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), env_state(info.Env()).ctx.flush_denormals);
}

Napi::Value get_num_threads_js(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), env_state(info.Env()).ctx.threads);
}

const char* const kKernelNames[] = {"auto", "blas", "avx2", "avx512"};

// setStepKernel("auto" | "blas" | "avx2" | "avx512"): how per-step products
// of a batch run in this environment; an instruction set the CPU lacks is refused.
Napi::Value set_step_kernel_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = info.Length() == 1 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  int found = -1;
  for (int i = 0; i < 4; ++i) {
    if (name == kKernelNames[i]) found = i;
  }
  if (found < 0) throw_range(env, "kernel: expected \"auto\", \"blas\", \"avx2\" or \"avx512\"");
  const auto k = static_cast<StepKernel>(found);
  if (!step_kernel_supported(k)) throw_range(env, "kernel: \"" + name + "\" is not supported by this CPU");
  env_state(env).ctx.step_kernel = k;
  return env.Undefined();
}

// setSoloThresholds(callMacs, stepMacs), for tests: the sizes below which a
// layer call, or a step's product, runs on one thread (ExecContext).
Napi::Value set_solo_thresholds_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto valid = [&](size_t i) {
    if (info.Length() != 2 || !info[i].IsNumber()) return false;
    const double v = info[i].As<Napi::Number>().DoubleValue();
    return v >= 0 && v <= 9007199254740991.0 && v == static_cast<double>(static_cast<int64_t>(v));
  };
  if (!valid(0) || !valid(1)) throw_range(env, "setSoloThresholds expects two integers >= 0 (callMacs, stepMacs)");
  env_state(env).ctx.solo_call_macs = static_cast<int64_t>(info[0].As<Napi::Number>().DoubleValue());
  env_state(env).ctx.solo_step_macs = static_cast<int64_t>(info[1].As<Napi::Number>().DoubleValue());
  return env.Undefined();
}

// teamStats(): the thread team's process-wide counters, for benchmarks and
// tests (how often a call ran without helpers, and why).
Napi::Value team_stats_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const TeamStats st = team_stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("jobs", static_cast<double>(st.jobs));
  o.Set("soloJobs", static_cast<double>(st.solo_jobs));
  o.Set("soloBenched", static_cast<double>(st.solo_benched));
  o.Set("soloBusy", static_cast<double>(st.solo_busy));
  o.Set("soloNested", static_cast<double>(st.solo_nested));
  o.Set("helperTasks", static_cast<double>(st.helper_tasks));
  o.Set("stalls", static_cast<double>(st.stalls));
  return o;
}

// The kernel per-step products of a batch (B >= 2) use now.
Napi::Value step_kernel_js(const Napi::CallbackInfo& info) {
  const StepKernel k = resolve_step_kernel(env_state(info.Env()).ctx.step_kernel);
  return Napi::String::New(info.Env(), kKernelNames[static_cast<int>(k)]);
}

// setGemmThreading("team" | "openblas"): how big GEMMs use several cores.
// "openblas" is for comparison and the sgemm peak; OpenBLAS's own thread
// count is process-wide.
Napi::Value set_gemm_threading_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string name = info.Length() == 1 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : std::string();
  EnvState& s = env_state(env);
  if (name == "team") {
    s.ctx.gemm = GemmThreading::Team;
    set_openblas_threads(1);
  } else if (name == "openblas") {
    s.ctx.gemm = GemmThreading::OpenBlas;
    set_openblas_threads(s.ctx.threads);
  } else {
    throw_range(env, "threading: expected \"team\" or \"openblas\"");
  }
  return env.Undefined();
}

// backwardWorkspaceSize(T, B, I, H, cell = 0): floats of backward scratch.
Napi::Value workspace_size_js(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double code = info.Length() > 4 && info[4].IsNumber() ? info[4].As<Napi::Number>().DoubleValue() : 0;
  const CellKind cell = cell_kind(env, code, "backwardWorkspaceSize");
  int64_t d[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < 4; ++i) {
    const double v = i < info.Length() && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : 0;
    if (!(v >= 1 && v <= 2147483647.0)) throw_range(env, "backwardWorkspaceSize: expected T, B, I, H in 1..2147483647");
    d[i] = static_cast<int64_t>(v);
  }
  RnnShape s{d[0], d[1], d[2], d[3]};
  mul(env, mul(env, mul(env, s.T, s.B), s.H), 8);
  return Napi::Number::New(env, static_cast<double>(backward_workspace_size(s, cell)));
}

template <Napi::Value (*Entry)(const Napi::CallbackInfo&, Mode), Mode M>
Napi::Value with_mode(const Napi::CallbackInfo& info) {
  return Entry(info, M);
}

template <Napi::Value (*Entry)(const Napi::CallbackInfo&)>
void export_fn(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<guarded<Entry>>(env, name));
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env_state(env);
  set_openblas_threads(1);  // rnnblas splits work itself (team_gemm.h)
  export_fn<with_mode<layer_call<ForwardCall>, Mode::Sync>>(env, exports, "forwardLayer");
  export_fn<with_mode<layer_call<ForwardCall>, Mode::Async>>(env, exports, "forwardLayerAsync");
  export_fn<with_mode<layer_call<BackwardCall>, Mode::Sync>>(env, exports, "backwardLayer");
  export_fn<with_mode<layer_call<BackwardCall>, Mode::Async>>(env, exports, "backwardLayerAsync");
  export_fn<layers_async>(env, exports, "layersAsync");
  export_fn<with_mode<sgemm, Mode::Sync>>(env, exports, "sgemm");
  export_fn<with_mode<sgemm, Mode::Async>>(env, exports, "sgemmAsync");
  export_fn<softmax_cross_entropy_js>(env, exports, "softmaxCrossEntropy");
  export_fn<squared_error_js>(env, exports, "squaredError");
  export_fn<adam_step_js>(env, exports, "adamStep");
  export_fn<sgd_step_js>(env, exports, "sgdStep");
  export_fn<add_squares_js>(env, exports, "addSquares");
  export_fn<scale_in_place_js>(env, exports, "scaleInPlace");
  export_fn<alloc_js>(env, exports, "alloc");
  export_fn<blas_info_js>(env, exports, "blasInfo");
  export_fn<set_num_threads_js>(env, exports, "setNumThreads");
  export_fn<get_num_threads_js>(env, exports, "getNumThreads");
  export_fn<set_flush_denormals_js>(env, exports, "setFlushDenormals");
  export_fn<get_flush_denormals_js>(env, exports, "getFlushDenormals");
  export_fn<set_step_kernel_js>(env, exports, "setStepKernel");
  export_fn<set_solo_thresholds_js>(env, exports, "setSoloThresholds");
  export_fn<step_kernel_js>(env, exports, "stepKernel");
  export_fn<team_stats_js>(env, exports, "teamStats");
  export_fn<set_gemm_threading_js>(env, exports, "setGemmThreading");
  export_fn<workspace_size_js>(env, exports, "backwardWorkspaceSize");
  return exports;
}

}  // namespace
}  // namespace rnnblas::binding

static Napi::Object InitRnnblas(Napi::Env env, Napi::Object exports) {
  return rnnblas::binding::init(env, exports);
}

NODE_API_MODULE(rnnblas, InitRnnblas)
