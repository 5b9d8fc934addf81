// Work on the libuv pool that settles a promise, written on the C API so
// that nothing on its completion path can throw: when the worker that queued
// it is terminated (or exits) mid-call, Node still runs the completion during
// teardown, where every JS call fails; node-addon-api's AsyncWorker throws
// there, which aborts the whole process. Here failures are ignored and the
// job is freed. The kernel itself only touches memory the job holds (keep.h).
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string>

#include "keep.h"

namespace rnnblas::binding {

class AsyncJob {
 public:
  // Queues `run` (which must only use memory `kept` holds) and returns the
  // promise it settles. On failure to queue, throws (on the JS thread).
  static Napi::Value queue(Napi::Env env, std::unique_ptr<Kept> kept,
                           std::function<void()> run) {
    auto job = std::unique_ptr<AsyncJob>(new AsyncJob(std::move(kept), std::move(run)));
    napi_value promise = nullptr;
    napi_value name = nullptr;
    if (napi_create_promise(env, &job->deferred_, &promise) != napi_ok ||
        napi_create_string_utf8(env, "rnnblas", NAPI_AUTO_LENGTH, &name) != napi_ok ||
        napi_create_async_work(env, nullptr, name, execute, complete, job.get(), &job->work_) != napi_ok) {
      job->kept_->release(env);
      throw Napi::Error::New(env, "rnnblas native: could not queue the call");
    }
    if (napi_queue_async_work(env, job->work_) != napi_ok) {
      napi_delete_async_work(env, job->work_);
      job->kept_->release(env);
      throw Napi::Error::New(env, "rnnblas native: could not queue the call");
    }
    job.release();  // owned by the work until complete()
    return Napi::Value(env, promise);
  }

 private:
  AsyncJob(std::unique_ptr<Kept> kept, std::function<void()> run)
      : kept_(std::move(kept)), run_(std::move(run)) {}

  static void execute(napi_env /*env*/, void* data) {
    auto* job = static_cast<AsyncJob*>(data);
    try {
      job->run_();
    } catch (const std::bad_alloc&) {
      job->error_ = "out of memory";
    } catch (const std::exception& e) {
      job->error_ = e.what();
    } catch (...) {
      job->error_ = "unknown native error";
    }
  }

  // Every napi call here may fail (teardown); none may throw.
  static void complete(napi_env env, napi_status status, void* data) {
    std::unique_ptr<AsyncJob> job(static_cast<AsyncJob*>(data));
    std::string error = job->error_;
    if (status == napi_cancelled) error = "the call was cancelled";
    if (error.empty()) {
      const std::string lost = job->kept_->write_back(env);
      if (!lost.empty()) error = "output buffer(s) " + lost + " were detached or shrunk during the call; the result was dropped";
    }
    job->kept_->release(env);
    napi_handle_scope scope = nullptr;
    const bool scoped = napi_open_handle_scope(env, &scope) == napi_ok;
    if (error.empty()) {
      napi_value undefined = nullptr;
      if (napi_get_undefined(env, &undefined) == napi_ok) {
        napi_resolve_deferred(env, job->deferred_, undefined);
      }
    } else {
      napi_value message = nullptr, err = nullptr;
      const std::string text = "rnnblas native: " + error;
      if (napi_create_string_utf8(env, text.c_str(), text.size(), &message) == napi_ok &&
          napi_create_error(env, nullptr, message, &err) == napi_ok) {
        napi_reject_deferred(env, job->deferred_, err);
      }
    }
    if (scoped) napi_close_handle_scope(env, scope);
    napi_delete_async_work(env, job->work_);
  }

  std::unique_ptr<Kept> kept_;
  std::function<void()> run_;
  std::string error_;
  napi_deferred deferred_ = nullptr;
  napi_async_work work_ = nullptr;
};

}  // namespace rnnblas::binding
