#include "memory.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

namespace rnnblas::binding {
namespace {

// Live Blocks by address, for recognising our own buffers when a call
// arrives. Never destroyed: finalizers may run during process exit.
struct Registry {
  std::mutex mutex;
  std::unordered_map<const void*, std::weak_ptr<Block>> blocks;
};

Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

void finalize(napi_env /*env*/, void* /*data*/, void* hint) {
  delete static_cast<std::shared_ptr<Block>*>(hint);
}

}  // namespace

Block::Block(size_t bytes, Fill fill, std::shared_ptr<ExternalBytes> owner)
    : bytes_(bytes), owner_(std::move(owner)) {
  // calloc skips its memset only for fresh pages; reused heap memory costs a
  // pass (13 MB on each W5 forward output), so outputs written in full skip it.
  raw_ = fill == Fill::Zeros ? std::calloc(bytes + 64, 1) : std::malloc(bytes + 64);
  if (raw_ == nullptr) throw std::bad_alloc();
  const auto address = reinterpret_cast<uintptr_t>(raw_);
  data_ = reinterpret_cast<void*>((address + 63) & ~uintptr_t{63});
  if (owner_) owner_->live.fetch_add(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
}

Block::~Block() {
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.blocks.find(data_);
    if (it != r.blocks.end() && it->second.expired()) r.blocks.erase(it);
  }
  std::free(raw_);
  if (owner_) owner_->live.fetch_sub(static_cast<int64_t>(bytes_), std::memory_order_relaxed);
}

std::shared_ptr<Block> find_block(const void* base) {
  if (base == nullptr) return nullptr;
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.blocks.find(base);
  return it == r.blocks.end() ? nullptr : it->second.lock();
}

Napi::Value alloc_f32(Napi::Env env, size_t n, Fill fill, const std::shared_ptr<ExternalBytes>& owner) {
  const size_t bytes = n * sizeof(float);
  auto block = std::make_shared<Block>(bytes, fill, owner);
  // Blocks are freed by finalizers, where no N-API call is safe: the count
  // V8 sees is corrected here instead, on every allocation.
  const int64_t live = owner->live.load(std::memory_order_relaxed);
  int64_t total = 0;
  if (napi_adjust_external_memory(env, live - owner->reported, &total) == napi_ok) owner->reported = live;
  auto* holder = new std::shared_ptr<Block>(block);
  napi_value buffer = nullptr;
  const napi_status status = napi_create_external_arraybuffer(
      env, block->data(), bytes, finalize, holder, &buffer);
  if (status != napi_ok) {
    delete holder;
    // Runtimes with a V8 sandbox refuse external buffers: plain memory then
    // (async calls copy it like any foreign buffer).
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    Napi::ArrayBuffer plain = Napi::ArrayBuffer::New(env, bytes);
    return Napi::Float32Array::New(env, n, plain, 0);
  }
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.blocks[block->data()] = block;
  }
  return Napi::Float32Array::New(env, n, Napi::ArrayBuffer(env, buffer), 0);
}

}  // namespace rnnblas::binding
