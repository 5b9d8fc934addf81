// Threads of our own for the time loop. Its per-step products are too small
// for OpenBLAS's threading (a 32x256x256 step: 118 GFLOP/s on its 2 threads,
// 204 with the columns split over ours and a spin barrier between steps), so
// a layer's whole loop runs as one team job: each thread owns a slice of the
// hidden columns for all T steps.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>

namespace rnnblas {

class TeamMember {
 public:
  int rank() const { return rank_; }
  int size() const { return size_; }
  // Waits until every member has arrived (spinning: steps are microseconds).
  void barrier();
  // This member's share [begin, end) of `count` items, in whole `grain`s.
  std::pair<int64_t, int64_t> share(int64_t count, int64_t grain) const;

 private:
  friend class ThreadTeam;
  TeamMember(int rank, int size, class ThreadTeam* team)
      : rank_(rank), size_(size), team_(team) {}
  int rank_, size_;
  class ThreadTeam* team_;
};

// Runs body on up to `threads` threads, the caller being rank 0, and returns
// when all are done. While another call holds the team (concurrent calls from
// several Node threads) the body runs on the caller alone: size 1, same
// result.
void run_team(int threads, const std::function<void(TeamMember&)>& body);

// Splits `count` items over the team in shares of whole `grain`s and returns
// the sum of body(begin, end) over the shares, added in rank order.
double team_sum(int threads, int64_t count, int64_t grain,
                const std::function<double(int64_t, int64_t)>& body);

}  // namespace rnnblas
