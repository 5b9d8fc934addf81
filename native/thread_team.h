// Threads of our own for the time loop and the GEMM splits.
//
// A job is `tasks` tasks run in `phases` phases: fn(phase, task) runs once for
// every pair, and every call of phase p returns before any call of phase p+1
// starts (the per-step barrier of the time loop). The work partition is the
// tasks, fixed by the caller (ExecContext::threads); WHO runs each task is not:
// the calling thread and the team's helper threads claim tasks atomically
// (each first its "own" one, for cache locality, then any left), so the caller
// alone runs all of them when the helpers are busy with another call, asleep,
// or descheduled. Results therefore depend on the task count only, never on
// which or how many threads ran the job, or on what else the process does.
//
// Contention: waits spin briefly, then sleep (futex on Linux), so a thread
// that lost its core stalls nobody for long and idle helpers cost no CPU. A
// caller that waits far longer for a helper's task than its own task took
// (the helper lost its core to another process) runs the rest of the job, and
// the following jobs for a while, without helpers; so does a caller whose
// helper waited as long for the caller's task (the caller lost its core). The
// while is short for a stall out of the blue and grows (up to ~1 s) while
// stalls recur right after the helpers come back.
#pragma once
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "exec_context.h"

namespace rnnblas {

// A non-owning reference to a callable: no allocation, unlike std::function.
// The callable must outlive the reference (a lambda passed to run_phases does).
template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F, typename = std::enable_if_t<
                            !std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT: implicit, like std::function
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(
              std::forward<Args>(args)...);
        }) {}
  R operator()(Args... args) const {
    return call_(object_, std::forward<Args>(args)...);
  }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

// The most tasks one job may have (bounds the per-task state; the binding caps
// ExecContext::threads at available_cpus() long before this).
constexpr int kMaxTasks = 256;

// The task count a context splits work into: ctx.threads within [1, kMaxTasks].
int team_tasks(const ExecContext& ctx);

// Runs fn(phase, task) for all phases x tasks as described above and returns
// when all have returned. 1 <= tasks <= kMaxTasks. The caller runs tasks
// itself; helpers (at most available_cpus() - 1 of them) join when free.
// fn must not depend on the executing thread (thread_local state, thread ids).
// An exception thrown by fn (on any thread) skips the job's remaining calls and
// is rethrown here; allocate before the job anyway (partial outputs are left).
// Calls from inside a task, or while another call holds the helpers, run all
// tasks on the calling thread, in the same partition.
void run_phases(int tasks, int phases, FunctionRef<void(int phase, int task)> fn);

// As run_phases, except that when the caller runs the whole job alone from
// the start (helpers benched or held by another call, a nested call, no
// helper threads), whole(phase) runs each phase instead of fn(phase, task)
// for its tasks one by one. whole(p) must compute exactly what the tasks of
// phase p do, to the bit: e.g. one product over all of a loop's batch rows
// instead of one per task's rows (as fast as the 1-task partition).
void run_phases(int tasks, int phases, FunctionRef<void(int phase, int task)> fn,
                FunctionRef<void(int phase)> whole);

// Task `task` of `tasks`' share [begin, end) of `count` items in whole
// `grain`s (the last share may end at count). Shares of consecutive tasks are
// contiguous and ascending; some may be empty.
std::pair<int64_t, int64_t> task_share(int64_t count, int64_t grain, int task,
                                       int tasks);

// Splits `count` items into team_tasks(ctx) shares of whole `grain`s (one share
// when `cost`, the elements touched, is below ~64K: waking helpers would cost
// more) and returns the sum of body(begin, end) over the shares, added in share
// order: the same bits for a given ctx.threads, whoever ran the shares.
double team_sum(const ExecContext& ctx, int64_t count, int64_t grain,
                int64_t cost, const std::function<double(int64_t, int64_t)>& body);

// The same with the share count given directly (tasks >= 1, no cost cut-off).
double team_sum(int tasks, int64_t count, int64_t grain,
                const std::function<double(int64_t, int64_t)>& body);

// True on a thread while it runs a task of a job (nested calls run solo).
bool in_team_task();

// Counters for tests and benchmarks (process-wide, monotonic).
struct TeamStats {
  uint64_t jobs = 0;          // jobs with more than one task
  uint64_t solo_jobs = 0;     // of those, run by the caller alone:
  uint64_t solo_benched = 0;  //   helpers sitting out after a stall
  uint64_t solo_busy = 0;     //   helpers held by another call
  uint64_t solo_nested = 0;   //   called from inside a task
  uint64_t helper_tasks = 0;  // tasks run by helpers
  uint64_t stalls = 0;        // waits that made the caller back off
};
TeamStats team_stats();

}  // namespace rnnblas
