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

#include <cstddef>
#include <cstdint>
#include <memory>

namespace rnnblas::binding {

class Block {
 public:
  // Zero-filled; throws std::bad_alloc.
  explicit Block(size_t bytes);
  ~Block();
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* raw_ = nullptr;
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// The Block whose memory starts at `base` and is still alive, or null.
std::shared_ptr<Block> find_block(const void* base);

// A zero-filled Float32Array of n floats over a new Block (or, where the
// runtime refuses external buffers, over an ordinary ArrayBuffer).
Napi::Value alloc_f32(Napi::Env env, size_t n);

}  // namespace rnnblas::binding
