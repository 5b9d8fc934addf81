#include "thread_team.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define RNNBLAS_PAUSE() _mm_pause()
#else
#define RNNBLAS_PAUSE() std::this_thread::yield()
#endif

namespace rnnblas {

class ThreadTeam {
 public:
  // Helpers are started on first use and never stopped: the process owns
  // them (the addon cannot be unloaded while a worker thread still runs it).
  static ThreadTeam& instance() {
    static ThreadTeam* team = new ThreadTeam();
    return *team;
  }

  void run(int threads, const std::function<void(TeamMember&)>& body) {
    TeamMember solo(0, 1, this);
    // One thread (small calls: one-step generation) touches no shared state.
    const int wanted = std::min(threads, hardware_);
    if (wanted <= 1) {
      body(solo);
      return;
    }
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) {
      body(solo);
      return;
    }
    const int size = wanted;
    grow(size - 1);
    size_ = size;
    body_ = &body;
    // Every helper acknowledges every job (those past `size` at once), so a
    // late riser can never mistake the next job's size for this one's.
    pending_.store(static_cast<int>(helpers_), std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(wake_mutex_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    TeamMember self(0, size, this);
    body(self);
    while (pending_.load(std::memory_order_acquire) != 0) RNNBLAS_PAUSE();
  }

  void barrier(int size) {
    const int phase = phase_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) == size - 1) {
      arrived_.store(0, std::memory_order_relaxed);
      phase_.store(phase + 1, std::memory_order_release);
      return;
    }
    for (int spins = 0; phase_.load(std::memory_order_acquire) == phase; ++spins) {
      if (spins < (1 << 16)) {
        RNNBLAS_PAUSE();
      } else {
        std::this_thread::yield();  // a member was descheduled: let it run
      }
    }
  }

 private:
  void grow(int helpers) {
    while (static_cast<int>(helpers_) < helpers) {
      const int rank = static_cast<int>(++helpers_);
      // The helper must wait for the job about to be posted, so it starts
      // from the generation before it (read here, not on its own thread).
      const uint64_t seen = generation_.load(std::memory_order_acquire);
      std::thread([this, rank, seen] { serve(rank, seen); }).detach();
    }
  }

  void serve(int rank, uint64_t seen) {
    for (;;) {
      // Spin a little (the next layer or step call usually follows within
      // microseconds), then sleep so an idle team costs no CPU.
      uint64_t now = seen;
      for (int spins = 0; spins < (1 << 14); ++spins) {
        now = generation_.load(std::memory_order_acquire);
        if (now != seen) break;
        RNNBLAS_PAUSE();
      }
      if (now == seen) {
        std::unique_lock<std::mutex> lock(wake_mutex_);
        wake_.wait(lock, [&] {
          return generation_.load(std::memory_order_acquire) != seen;
        });
        now = generation_.load(std::memory_order_acquire);
      }
      seen = now;
      if (rank < size_) {
        TeamMember member(rank, size_, this);
        (*body_)(member);
      }
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  // Read once: hardware_concurrency() reads /sys on every call (~5 us).
  const int hardware_ =
      std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
  std::mutex busy_;  // held by the call the team is working for
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> arrived_{0};
  std::atomic<int> phase_{0};
  size_t helpers_ = 0;
  int size_ = 1;
  const std::function<void(TeamMember&)>* body_ = nullptr;
};

void TeamMember::barrier() {
  if (size_ > 1) team_->barrier(size_);
}

std::pair<int64_t, int64_t> TeamMember::share(int64_t count,
                                              int64_t grain) const {
  const int64_t units = (count + grain - 1) / grain;
  const int64_t begin = units * rank_ / size_ * grain;
  const int64_t end = units * (rank_ + 1) / size_ * grain;
  return {std::min(begin, count), std::min(end, count)};
}

void run_team(int threads, const std::function<void(TeamMember&)>& body) {
  ThreadTeam::instance().run(threads, body);
}

double team_sum(int threads, int64_t count, int64_t grain,
                const std::function<double(int64_t, int64_t)>& body) {
  if (threads <= 1) return body(0, count);
  std::vector<double> partial(static_cast<size_t>(threads), 0.0);
  run_team(threads, [&](TeamMember& m) {
    const auto [begin, end] = m.share(count, grain);
    if (begin < end) partial[m.rank()] = body(begin, end);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace rnnblas
