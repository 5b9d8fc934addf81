#include "thread_team.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <climits>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <condition_variable>
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RNNBLAS_PAUSE() _mm_pause()
#else
#define RNNBLAS_PAUSE() std::this_thread::yield()
#endif

namespace rnnblas {
namespace {

using Word = std::atomic<uint32_t>;
static_assert(sizeof(Word) == sizeof(uint32_t) && Word::is_always_lock_free,
              "a futex word is a plain 32-bit integer");

// Sleeps while `word` still holds `seen` (spurious returns are fine: callers
// re-check). wake_all wakes every sleeper on `word`.
#if defined(__linux__)
void sleep_on(Word& word, uint32_t seen) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE,
          seen, nullptr, nullptr, 0);
}
void wake_all(Word& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE,
          INT_MAX, nullptr, nullptr, 0);
}
#else
std::mutex sleep_mutex;
std::condition_variable sleep_cv;
void sleep_on(Word& word, uint32_t seen) {
  std::unique_lock<std::mutex> lock(sleep_mutex);
  sleep_cv.wait(lock, [&] { return word.load() != seen; });
}
void wake_all(Word&) {
  { std::lock_guard<std::mutex> lock(sleep_mutex); }
  sleep_cv.notify_all();
}
#endif

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// How long a waiter spins before it sleeps. Within a job the next phase is
// usually microseconds away; between jobs the next call of a train step
// follows within tens of microseconds. Spinning longer would take the core
// from whoever else wants it.
constexpr int64_t kPhaseSpinNs = 200'000;
constexpr int64_t kIdleSpinNs = 1'000'000;

// A thread waiting for another's task longer than this, and longer than
// twice its own work in the phase, concludes that thread lost its core. Long
// enough to ignore a short preemption (the main thread finishing its JS on the
// core an async call's worker woke on: 0.1-0.5 stalls per E1 step at 100 us,
// each benching the helpers), short against a scheduler slice lost to a
// neighbour process (several ms).
constexpr int64_t kStallFloorNs = 1'000'000;
// How long the helpers then sit out: the min for a stall out of the blue (a
// passing burst: another thread of this process, a kernel thread); 8x the
// previous back-off when the stall comes soon after the helpers returned from
// one (the cause is still there: a neighbour that stays climbs to the max in
// three stalls, and then probing costs one stall a second). Blips a second
// apart on a shared VM must not add up to a long bench: the previous design
// doubled on any stall within 4 back-offs + 100 ms, so two blips a second kept
// the helpers benched 80% of the time (E1: 13 of 16 jobs per step solo).
constexpr int64_t kBackoffMinNs = 2'000'000;
constexpr int64_t kBackoffMaxNs = 1'000'000'000;
// "Soon after": within this long, or an eighth of the back-off, of its end.
// (Within the whole back-off, blips a second apart kept it at the max.)
constexpr int64_t kRecurNs = 50'000'000;
// Barrier waits a thread adds up before it publishes them (did_not_pay).
constexpr int64_t kWaitFlushNs = 20'000;
// A helper whose own task was taken by someone else this many phases in a
// row is too late to help: it leaves the job.
constexpr int kLateLimit = 2;

thread_local bool tls_in_task = false;

struct alignas(64) Slot {
  // (job << 32) | phases of this task claimed so far: claiming phase p is a
  // CAS from (job, p) to (job, p + 1), so a thread still looking at an older
  // job or phase can never claim anything.
  std::atomic<uint64_t> claim{0};
};

inline uint64_t tag(uint32_t job, uint32_t phase) {
  return (static_cast<uint64_t>(job) << 32) | phase;
}
inline uint32_t job_of(uint64_t t) { return static_cast<uint32_t>(t >> 32); }
inline uint32_t phase_of(uint64_t t) { return static_cast<uint32_t>(t); }

// The phase a finished job's cur_ shows. A finished job must never show
// "phase == phases": its slots are left claimable at exactly that tag, and a
// helper that read cur_ just before the next job was set up could compare that
// phase with the NEXT job's phases_, claim a slot and run a task of a job that
// is over (seen as a hang after ~6,700 jobs: remaining_ off by one).
constexpr uint32_t kDone = UINT32_MAX;

class Team {
 public:
  // Helpers are started on first use and never stopped: the process owns
  // them (the addon cannot be unloaded while a worker thread still runs it).
  static Team& instance() {
    static Team* team = new Team();
    return *team;
  }

  // One call at a time has the helpers; the others run solo.
  bool try_acquire() {
    bool expected = false;
    return busy_.compare_exchange_strong(expected, true, std::memory_order_acquire);
  }
  void release() { busy_.store(false, std::memory_order_release); }

  bool benched() const {
    return now_ns() < bench_until_.load(std::memory_order_relaxed);
  }

  // The holder's job. Returns false when no helper could be started.
  bool run(int tasks, int phases, FunctionRef<void(int, int)> fn) {
    if (grow(std::min(tasks, max_threads_) - 1) == 0) return false;
    const uint32_t job = ++job_id_ == 0 ? ++job_id_ : job_id_;  // 0: none
    tasks_.store(tasks, std::memory_order_relaxed);
    phases_.store(phases, std::memory_order_relaxed);
    fn_ = &fn;
    error_ = nullptr;
    failed_.store(false, std::memory_order_relaxed);
    retire_.store(false, std::memory_order_relaxed);
    stalled_ = false;
    caller_stalled_.store(false, std::memory_order_relaxed);
    waited_ns_.store(0, std::memory_order_relaxed);
    float_mode_.store(float_mode(), std::memory_order_relaxed);
    for (int t = 0; t < tasks; ++t) slots_[t].claim.store(tag(job, 0), std::memory_order_relaxed);
    remaining_.store(tasks, std::memory_order_relaxed);
    cur_.store(tag(job, 0), std::memory_order_seq_cst);  // publishes all of the above
    posted_.fetch_add(1, std::memory_order_seq_cst);
    if (idle_sleepers_.load(std::memory_order_seq_cst) > 0) wake_all(posted_);

    const int64_t began = now_ns();
    work(job, /*home=*/0, /*caller=*/true);
    assert(phase_of(cur_.load()) == kDone);
    if (!stalled_ && (caller_stalled_.load(std::memory_order_relaxed) ||
                      did_not_pay(now_ns() - began, phases))) {
      stall();
    }
    fn_ = nullptr;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

  TeamStats stats() const {
    TeamStats s;
    s.jobs = jobs_.load(std::memory_order_relaxed);
    s.solo_jobs = solo_jobs_.load(std::memory_order_relaxed);
    s.solo_benched = solo_benched_.load(std::memory_order_relaxed);
    s.solo_busy = solo_busy_.load(std::memory_order_relaxed);
    s.solo_nested = solo_nested_.load(std::memory_order_relaxed);
    s.helper_tasks = helper_tasks_.load(std::memory_order_relaxed);
    s.stalls = stalls_.load(std::memory_order_relaxed);

    return s;
  }
  enum class Solo { No, Benched, Busy, Nested };
  void count_job(Solo why) {
    jobs_.fetch_add(1, std::memory_order_relaxed);
    if (why == Solo::No) return;
    solo_jobs_.fetch_add(1, std::memory_order_relaxed);
    auto& reason = why == Solo::Benched ? solo_benched_ : why == Solo::Busy ? solo_busy_ : solo_nested_;
    reason.fetch_add(1, std::memory_order_relaxed);
  }

 private:
  Team() = default;

  // Starts helpers until there are `wanted` (or thread creation fails);
  // returns how many there are.
  int grow(int wanted) {
    while (helpers_ < wanted) {
      try {
        const int rank = helpers_ + 1;
        std::thread([this, rank] { serve(rank); }).detach();
        ++helpers_;
      } catch (const std::exception&) {
        break;  // no more threads: the tasks still all run, on fewer threads
      }
    }
    return std::min(helpers_, wanted);
  }

  void serve(int rank) {
    uint32_t seen = posted_.load(std::memory_order_acquire);
    for (;;) {
      seen = await_post(seen);
      const uint64_t cur = cur_.load(std::memory_order_acquire);
      // A job that has rank's task and is still running; stale values only
      // make the claims below fail.
      if (rank < tasks_.load(std::memory_order_relaxed) &&
          phase_of(cur) < static_cast<uint32_t>(phases_.load(std::memory_order_relaxed))) {
        work(job_of(cur), rank, /*caller=*/false);
      }
    }
  }

  // Waits for a job posted after `seen`; returns the new post count.
  uint32_t await_post(uint32_t seen) {
    const int64_t until = now_ns() + kIdleSpinNs;
    for (int spins = 0;; ++spins) {
      const uint32_t now = posted_.load(std::memory_order_acquire);
      if (now != seen) return now;
      if ((spins & 63) == 63) {
        if (now_ns() > until) break;
        // Between jobs another thread of this process (the main thread
        // running JS, a libuv worker starting the next call) may want this
        // core more: on 2 cores a spinning helper made it wait, preempted.
        std::this_thread::yield();
      }
      RNNBLAS_PAUSE();
    }
    for (;;) {
      idle_sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const uint32_t now = posted_.load(std::memory_order_seq_cst);
      if (now == seen) sleep_on(posted_, seen);
      idle_sleepers_.fetch_sub(1, std::memory_order_relaxed);
      const uint32_t after = posted_.load(std::memory_order_acquire);
      if (after != seen) return after;
    }
  }

  // Claims and runs tasks of `job` until it ends (the caller) or this thread
  // should stop helping (helpers).
  void work(uint32_t job, int home, bool caller) {
    int late = 0;
    // This thread's barrier waits, added to waited_ns_ in batches: an atomic
    // add per phase would bounce its cache line between the cores every step.
    struct Waits {
      std::atomic<int64_t>& total;
      int64_t mine = 0;
      void add(int64_t ns) {
        mine += ns;
        if (mine >= kWaitFlushNs) flush();
      }
      void flush() {
        if (mine != 0) total.fetch_add(mine, std::memory_order_relaxed);
        mine = 0;
      }
      ~Waits() { flush(); }
    } waits{waited_ns_};
    for (;;) {
      const uint64_t cur = cur_.load(std::memory_order_acquire);
      if (job_of(cur) != job) return;
      const uint32_t phase = phase_of(cur);
      if (phase == kDone) return;
      const int tasks = tasks_.load(std::memory_order_relaxed);
      if (phase >= static_cast<uint32_t>(phases_.load(std::memory_order_relaxed))) return;
      if (!caller && retire_.load(std::memory_order_relaxed)) return;
      const int64_t start = now_ns();
      bool ran_home = false;
      for (int i = 0; i < tasks; ++i) {
        const int t = home + i < tasks ? home + i : home + i - tasks;
        if (!caller && i > 0 && retire_.load(std::memory_order_relaxed)) break;
        uint64_t expected = tag(job, phase);
        if (slots_[t].claim.load(std::memory_order_relaxed) != expected) continue;
        if (!slots_[t].claim.compare_exchange_strong(expected, expected + 1,
                                                     std::memory_order_acq_rel)) {
          continue;
        }
        if (i == 0) ran_home = true;
        execute(job, static_cast<int>(phase), t, caller);
      }
      if (!caller) {
        late = ran_home ? 0 : late + 1;
        if (late >= kLateLimit) return;
      }
      const int64_t waiting = now_ns();
      await_phase(cur, start, caller);
      waits.add(now_ns() - waiting);
    }
  }

  // A job of `wall` ns in which the threads together waited at barriers for
  // most of that time: the split bought nothing (a thread kept losing its
  // core for less than a stall each time, e.g. to a neighbour process on a
  // core it shares). Judged on jobs long and many-phased enough to average
  // over phases (a time loop): in a one- or two-phase job (a GEMM, a loss)
  // one late wake-up is the whole wait, and judging those tripled the
  // benches of fit's one-job step (E1: 19-42 stalls in 300 steps against
  // 4-13 for the same calls made synchronously).
  bool did_not_pay(int64_t wall, int phases) const {
    constexpr int64_t kJudgedNs = 300'000;
    constexpr int kJudgedPhases = 8;
    return wall > kJudgedNs && phases >= kJudgedPhases &&
           10 * waited_ns_.load(std::memory_order_relaxed) > 8 * wall;
  }

  void execute(uint32_t job, int phase, int task, bool caller) {
    if (!failed_.load(std::memory_order_relaxed)) {
      if (!caller) set_float_mode(float_mode_.load(std::memory_order_relaxed));  // the caller's
      tls_in_task = true;
      try {
        (*fn_)(phase, task);
      } catch (...) {
        bool expected = false;
        if (failed_.compare_exchange_strong(expected, true)) error_ = std::current_exception();
      }
      tls_in_task = false;
    }
    if (!caller) {
      helper_tasks_.fetch_add(1, std::memory_order_relaxed);
    }
    finish(job, static_cast<uint32_t>(phase));
  }

  // One task of `phase` is done; the last one opens the next phase.
  void finish(uint32_t job, uint32_t phase) {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    remaining_.store(tasks_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    // The job is live here (this task of it has not finished), so phases_ is its own.
    const bool last = phase + 1 >= static_cast<uint32_t>(phases_.load(std::memory_order_relaxed));
    cur_.store(tag(job, last ? kDone : phase + 1), std::memory_order_seq_cst);
    advanced_.fetch_add(1, std::memory_order_seq_cst);
    if (phase_sleepers_.load(std::memory_order_seq_cst) > 0) wake_all(advanced_);
  }

  // Waits until the job moves past `cur` (this thread's part of the phase
  // began at `start`), watching for a thread that lost its core. The caller
  // then stalls the job (the helpers leave it). A helper cannot take the
  // caller's task from it, so it only reports: the caller benches the helpers
  // when the job ends. (With a neighbour process, the thread that shares a
  // core with it is as often the caller as a helper; before helpers reported,
  // W1 ran ~1.8x slower than at 1 thread until a helper happened to stall.)
  void await_phase(uint64_t cur, int64_t start, bool caller) {
    if (cur_.load(std::memory_order_acquire) != cur) return;
    const int64_t waiting = now_ns();
    const int64_t spin_until = waiting + kPhaseSpinNs;
    const int64_t stall_at = waiting + std::max(kStallFloorNs, 2 * (waiting - start));
    // Not a helper in phase 0: the caller may have lost its core to the very
    // helper it woke (on the caller's core), which then waits for it.
    bool watching = caller ? !stalled_
                           : phase_of(cur) > 0 && !caller_stalled_.load(std::memory_order_relaxed);
    for (int spins = 0;; ++spins) {
      if (cur_.load(std::memory_order_acquire) != cur) return;
      if ((spins & 63) == 63 && now_ns() > spin_until) break;
      RNNBLAS_PAUSE();
    }
    for (;;) {
      phase_sleepers_.fetch_add(1, std::memory_order_seq_cst);
      const uint32_t seen = advanced_.load(std::memory_order_seq_cst);
      if (cur_.load(std::memory_order_seq_cst) == cur) {
        if (watching) {
          // Sleep no later than the stall point so it is noticed.
          const int64_t now = now_ns();
          if (now >= stall_at) {
            if (caller) {
              stall();
            } else {
              caller_stalled_.store(true, std::memory_order_relaxed);
            }
            watching = false;
          } else {
            sleep_for(seen, stall_at - now);
            phase_sleepers_.fetch_sub(1, std::memory_order_relaxed);
            continue;
          }
        }
        sleep_on(advanced_, seen);
      }
      phase_sleepers_.fetch_sub(1, std::memory_order_relaxed);
      if (cur_.load(std::memory_order_acquire) != cur) return;
    }
  }

  void sleep_for(uint32_t seen, int64_t ns) {
#if defined(__linux__)
    timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    syscall(SYS_futex, reinterpret_cast<uint32_t*>(&advanced_), FUTEX_WAIT_PRIVATE,
            seen, &ts, nullptr, 0);
#else
    (void)seen;
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(ns, 50'000)));
#endif
  }

  // The caller waited far too long for a helper: the helpers leave this job
  // (after the task they are in) and sit out the next ones for a while.
  void stall() {
    stalled_ = true;
    retire_.store(true, std::memory_order_relaxed);
    stalls_.fetch_add(1, std::memory_order_relaxed);
    const int64_t now = now_ns();
    const int64_t returned = bench_until_.load(std::memory_order_relaxed);
    const bool recurs = now - returned < std::max(kRecurNs, backoff_ns_ / 8);
    backoff_ns_ = recurs ? std::min(backoff_ns_ * 8, kBackoffMaxNs) : kBackoffMinNs;
    bench_until_.store(now + backoff_ns_, std::memory_order_relaxed);
  }

  // Read once: the CPUs this process may use.
  const int max_threads_ = std::max(available_cpus(), 1);
  std::atomic<bool> busy_{false};
  int helpers_ = 0;  // started helper threads (holder only)

  // The open job (written by its holder before cur_ is published).
  std::atomic<int> tasks_{0};
  std::atomic<int> phases_{0};
  FunctionRef<void(int, int)>* fn_ = nullptr;
  std::exception_ptr error_;
  std::atomic<bool> failed_{false};
  std::atomic<bool> retire_{false};
  std::atomic<bool> caller_stalled_{false};  // a helper waited far too long for it
  std::atomic<int64_t> waited_ns_{0};
          // all threads' barrier waits this job
  std::atomic<unsigned> float_mode_{0};  // the caller's FTZ/DAZ bits
  uint32_t job_id_ = 0;

  // Holder-only adaptive state.
  bool stalled_ = false;
  int64_t backoff_ns_ = kBackoffMinNs;
  std::atomic<int64_t> bench_until_{INT64_MIN / 2};  // the end of the last back-off

  alignas(64) std::atomic<uint64_t> cur_{0};  // (job, phase) open now
  alignas(64) std::atomic<int> remaining_{0};  // tasks of the phase not done
  alignas(64) Word advanced_{0};               // futex: bumped per phase
  std::atomic<int> phase_sleepers_{0};
  alignas(64) Word posted_{0};                 // futex: bumped per job
  std::atomic<int> idle_sleepers_{0};

  alignas(64) std::atomic<uint64_t> jobs_{0}, solo_jobs_{0}, helper_tasks_{0}, stalls_{0};
  std::atomic<uint64_t> solo_benched_{0}, solo_busy_{0}, solo_nested_{0};

  Slot slots_[kMaxTasks];
};

void run_solo(int tasks, int phases, FunctionRef<void(int, int)> fn) {
  const bool outer = !tls_in_task;
  tls_in_task = true;
  try {
    for (int p = 0; p < phases; ++p) {
      for (int t = 0; t < tasks; ++t) fn(p, t);
    }
  } catch (...) {
    if (outer) tls_in_task = false;
    throw;
  }
  if (outer) tls_in_task = false;
}

}  // namespace

int team_tasks(const ExecContext& ctx) { return std::clamp(ctx.threads, 1, kMaxTasks); }

bool in_team_task() { return tls_in_task; }

namespace {

// Both forms of run_phases; `whole` may be null.
void run_job(int tasks, int phases, FunctionRef<void(int, int)> fn,
             const FunctionRef<void(int)>* whole) {
  assert(tasks >= 1 && tasks <= kMaxTasks && phases >= 0);
  if (phases == 0) return;
  const auto alone = [&] {
    if (whole == nullptr) {
      run_solo(tasks, phases, fn);
      return;
    }
    run_solo(1, phases, [whole](int phase, int) { (*whole)(phase); });
  };
  if (tasks == 1) {
    run_solo(1, phases, fn);
    return;
  }
  Team& team = Team::instance();
  const Team::Solo why = tls_in_task ? Team::Solo::Nested
                        : team.benched() ? Team::Solo::Benched
                        : !team.try_acquire() ? Team::Solo::Busy
                                              : Team::Solo::No;
  if (why != Team::Solo::No) {
    team.count_job(why);
    alone();
    return;
  }
  struct Release {
    Team& t;
    ~Release() { t.release(); }
  } release{team};
  team.count_job(Team::Solo::No);
  if (!team.run(tasks, phases, fn)) alone();
}

}  // namespace

void run_phases(int tasks, int phases, FunctionRef<void(int, int)> fn) {
  run_job(tasks, phases, fn, nullptr);
}

void run_phases(int tasks, int phases, FunctionRef<void(int, int)> fn,
                FunctionRef<void(int)> whole) {
  run_job(tasks, phases, fn, &whole);
}

std::pair<int64_t, int64_t> task_share(int64_t count, int64_t grain, int task,
                                       int tasks) {
  assert(grain >= 1 && task >= 0 && task < tasks);
  const int64_t units = (count + grain - 1) / grain;
  const int64_t begin = units * task / tasks * grain;
  const int64_t end = units * (task + 1) / tasks * grain;
  return {std::min(begin, count), std::min(end, count)};
}

double team_sum(const ExecContext& ctx, int64_t count, int64_t grain, int64_t cost,
                const std::function<double(int64_t, int64_t)>& body) {
  // Below ~64K elements (~20 us) waking helpers costs more than they save.
  constexpr int64_t kMinCost = int64_t{1} << 16;
  return team_sum(cost < kMinCost ? 1 : team_tasks(ctx), count, grain, body);
}

double team_sum(int tasks, int64_t count, int64_t grain,
                const std::function<double(int64_t, int64_t)>& body) {
  tasks = std::clamp(tasks, 1, kMaxTasks);
  if (tasks == 1) return body(0, count);
  std::vector<double> partial(static_cast<size_t>(tasks), 0.0);  // before the job
  run_phases(tasks, 1, [&](int, int task) {
    const auto [begin, end] = task_share(count, grain, task, tasks);
    if (begin < end) partial[task] = body(begin, end);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

TeamStats team_stats() { return Team::instance().stats(); }

}  // namespace rnnblas
