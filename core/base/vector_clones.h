// H158_VECTOR_CLONES before a function compiles it for AVX-512, AVX2 and plain x86-64, the clone
// picked at load time (ifunc), so its loops vectorize (e.g. std::nearbyint as vrndscaleps /
// vroundps) even in a build without -march=native, where they would otherwise be a libm call per
// element. Every clone computes the same IEEE results. Empty on other compilers and CPUs.
#pragma once

// Not under ThreadSanitizer: the ifunc resolver runs while the dynamic loader relocates, before
// the TSan runtime is up, and GCC instruments it (__tsan_func_entry), so the program crashes
// before main. The clones compute the same results, so the plain function loses nothing there.
// (GCC says __SANITIZE_THREAD__, Clang __has_feature(thread_sanitizer).)
#if defined(__SANITIZE_THREAD__)
#define H158_NO_VECTOR_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define H158_NO_VECTOR_CLONES
#endif
#endif
#if defined(__x86_64__) && defined(__has_attribute) && !defined(H158_NO_VECTOR_CLONES)
#if __has_attribute(target_clones)
#define H158_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef H158_VECTOR_CLONES
#define H158_VECTOR_CLONES
#endif
