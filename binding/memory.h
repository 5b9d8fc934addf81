// Memory the kernels use that JS cannot take away from under them.
//
// A Block is native-owned, 64-byte aligned and reference counted. JS sees it
// as the ArrayBuffer behind a Float32Array from `alloc` (an external buffer
// whose finalizer drops one reference); an async call takes a reference of
// its own before it is queued. So detaching, transferring or collecting the
// JS buffer, or ending the worker that owns it, leaves the memory valid until
// the call is done. Foreign buffers (plain typed arrays) are copied into
// Blocks instead (see keep.h).
#pragma once
#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace rnnblas::binding {

// Bytes of live Blocks made for one environment, and how many of them V8
// has been told about (napi_adjust_external_memory), so that the garbage
// collector feels their weight and frees dropped ones in time.
struct ExternalBytes {
  std::atomic<int64_t> live{0};
  int64_t reported = 0;  // JS thread only
};

// What a new Block holds: zeros, or whatever the allocator returns (for
// memory that is written in full before anything reads it).
enum class Fill { Zeros, Unspecified };

class Block {
 public:
  // Throws std::bad_alloc. Counts itself in `owner` while alive.
  Block(size_t bytes, Fill fill, std::shared_ptr<ExternalBytes> owner = nullptr);
  ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* raw_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
  std::shared_ptr<ExternalBytes> owner_;
};

// The Block whose memory starts at `base` and is still alive, or null.
std::shared_ptr<Block> find_block(const void* base);

// A Float32Array of n floats over a new Block (or, where the runtime refuses
// external buffers, over an ordinary ArrayBuffer, zero-filled). Brings V8's
// count of external memory for this environment up to date first.
Napi::Value alloc_f32(Napi::Env env, size_t n, Fill fill, const std::shared_ptr<ExternalBytes>& owner);

}  // namespace rnnblas::binding
