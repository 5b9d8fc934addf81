// Function multiversioning for the elementwise loops: an AVX2/FMA clone next
// to the baseline, picked when the library loads, so prebuilt binaries need no
// -march flag. (Off under ASan, whose instrumentation does not mix with ifuncs.)
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define RNNBLAS_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define RNNBLAS_CLONES
#endif
