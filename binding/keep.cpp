#include "keep.h"

#include <algorithm>
#include <cstring>

namespace rnnblas::binding {

void Kept::keep(Napi::Env env, const std::vector<Array*>& arrays) {
  std::vector<size_t> group_of(arrays.size(), 0);
  for (size_t i = 0; i < arrays.size(); ++i) {
    Array* a = arrays[i];
    if (!a->present || a->data == nullptr) continue;
    const size_t lo = a->offset, hi = a->offset + a->bytes();
    auto it = std::find_if(groups_.begin(), groups_.end(),
                           [&](const Group& g) { return g.base == a->base; });
    if (it == groups_.end()) {
      Group g;
      g.base = a->base;
      g.lo = lo;
      g.hi = hi;
      groups_.push_back(std::move(g));
      it = groups_.end() - 1;
    }
    it->lo = std::min(it->lo, lo);
    it->hi = std::max(it->hi, hi);
    if (a->spec->role != Role::In) it->writes.push_back({lo, hi, a->spec->name});
    if (it->buffer == nullptr && a->spec->role != Role::In) {
      // Referenced now, while the value is alive; dropped if pinned below.
      napi_create_reference(env, a->buffer, 1, &it->buffer);
    }
    group_of[i] = static_cast<size_t>(it - groups_.begin());
  }
  for (Group& g : groups_) {
    g.block = find_block(g.base);
    if (g.block != nullptr) {
      if (g.buffer != nullptr) napi_delete_reference(env, g.buffer);
      g.buffer = nullptr;
      g.writes.clear();
      continue;
    }
    g.block = std::make_shared<Block>(g.hi - g.lo, Fill::Unspecified);  // may throw bad_alloc
    std::memcpy(g.block->data(), g.base + g.lo, g.hi - g.lo);
    g.copied = true;
  }
  for (size_t i = 0; i < arrays.size(); ++i) {
    Array* a = arrays[i];
    if (!a->present || a->data == nullptr) continue;
    const Group& g = groups_[group_of[i]];
    if (g.copied) a->data = static_cast<char*>(g.block->data()) + (a->offset - g.lo);
  }
}

std::string Kept::write_back(napi_env env) {
  std::string lost;
  for (Group& g : groups_) {
    if (!g.copied || g.writes.empty() || g.buffer == nullptr) continue;
    napi_value buffer = nullptr;
    void* base = nullptr;
    size_t bytes = 0;
    bool ok = napi_get_reference_value(env, g.buffer, &buffer) == napi_ok && buffer != nullptr;
    if (ok && napi_get_arraybuffer_info(env, buffer, &base, &bytes) != napi_ok) {
      // A SharedArrayBuffer keeps its memory: write where it was.
      base = g.base;
      bytes = g.hi;
    }
    for (const Range& r : g.writes) {
      if (ok && base == g.base && bytes >= r.hi) {
        std::memcpy(g.base + r.lo, static_cast<char*>(g.block->data()) + (r.lo - g.lo), r.hi - r.lo);
      } else {
        if (!lost.empty()) lost += ", ";
        lost += r.name;
      }
    }
  }
  return lost;
}

void Kept::release(napi_env env) {
  for (Group& g : groups_) {
    if (g.buffer != nullptr) napi_delete_reference(env, g.buffer);
    g.buffer = nullptr;
  }
}

}  // namespace rnnblas::binding
