// What the linked OpenBLAS is and how many threads it uses.
#pragma once
#include <string>

namespace rnnblas {

struct BlasInfo {
  std::string version;  // "OpenBLAS 0.3.21"
  std::string config;   // openblas_get_config()
  std::string core;     // the kernel set OpenBLAS picked for this CPU
  int num_threads = 1;  // threads BLAS calls use now
  int num_procs = 1;    // cores OpenBLAS detected
  bool parallel = false;  // built with threading support
};

BlasInfo blas_info();

// Process-global in OpenBLAS: affects every caller. This is the count the
// user asked for; it stays in force except while a SingleThreadedBlas scope
// is open somewhere.
void set_blas_threads(int n);
int blas_threads();

// While at least one of these is alive, BLAS calls run single-threaded, so
// that threads of our own (the two directions of a bidirectional layer) each
// get a core instead of fighting OpenBLAS's pool for them. The last one to
// close restores the user's count.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas();
  ~SingleThreadedBlas();
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;
};

}  // namespace rnnblas
