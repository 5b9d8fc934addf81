// What an async call holds while it runs on the libuv pool.
//
// Each ArrayBuffer its arguments live in is held once: a Block of ours is
// pinned (a reference, no copy); any other buffer is copied into a new Block
// (the spanned bytes only) and, if the call writes to it, copied back on the
// JS thread when the call is done, if the buffer is still there. Nothing JS
// does meanwhile (mutating, detaching, transferring, collecting, ending the
// worker) can move memory the kernel reads or writes.
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "fields.h"
#include "memory.h"

namespace rnnblas::binding {

class Kept {
 public:
  // Holds every present array (remapping its data pointer into the copy
  // where it was copied). Call on the JS thread, after all checks.
  void keep(Napi::Env env, const std::vector<Array*>& arrays);

  // On the JS thread when the call is done: copies results back into
  // foreign buffers still attached. Returns the names of outputs whose
  // buffer was detached or shrunk meanwhile (their results are dropped).
  std::string write_back(napi_env env);

  // Drops the JS references (on the JS thread; harmless during teardown).
  void release(napi_env env);

 private:
  struct Range {
    size_t lo, hi;  // bytes from the buffer's start
    const char* name;
  };
  struct Group {
    char* base = nullptr;  // the JS buffer's first byte when the call began
    size_t lo = 0, hi = 0;  // spanned bytes
    std::shared_ptr<Block> block;
    bool copied = false;
    std::vector<Range> writes;
    napi_ref buffer = nullptr;  // to write back into (copied groups with writes)
  };
  std::vector<Group> groups_;
};

}  // namespace rnnblas::binding
