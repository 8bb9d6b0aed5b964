// PHASESWEEP_TARGET_CLONES: compile a function for AVX-512, AVX2 and the baseline x86-64 and
// pick one when the program loads (GCC's target_clones, an ifunc). Elsewhere (aarch64, other
// compilers) it is the plain function.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PHASESWEEP_TARGET_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PHASESWEEP_TARGET_CLONES
#endif
