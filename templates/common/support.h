// Brisk support code, shared by the C++ and CUDA targets: fixed-width
// integer types, Brian's arithmetic helpers and the Philox4x32-10 generator.
// Written for Brisk; semantics follow Brian's C++ generator.
#ifdef __CUDACC__
#define BRISK_FN __host__ __device__ static inline
#define BRISK_SPEC __host__ __device__ inline
#else
#define BRISK_FN static inline
#define BRISK_SPEC inline
#endif

#ifdef __CUDACC_RTC__
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
#define INFINITY __longlong_as_double(0x7ff0000000000000ULL)
#define NAN __longlong_as_double(0x7ff8000000000000ULL)
#else
#include <cstdint>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <csignal>
using std::abs;
#endif

// An integer division or modulo by zero (Python raises ZeroDivisionError,
// C++ leaves it undefined): the kernel stops with a fault that the runtime
// reports as an error naming the code object (SIGFPE on the CPU, a trap on
// the GPU).
BRISK_FN void _brisk_zero_division() {
#ifdef __CUDACC__
    __trap();
#else
    raise(SIGFPE);
#endif
}

// One copy of a batched launch (CUDA sweeps, `runtime::BatchCopy`): what
// differs between copies of one model; the copy is blockIdx.y.
struct BriskCopy {
    void* const* arrays;
    const int64_t* sizes;
    uint64_t seed;
    int64_t n;
    // 0, or (a batched launch replayed in a CUDA graph) the copy's own step state
    const uint64_t* step;
};

// Arguments of every generated function (the same layout in Rust).
struct BriskArgs {
    void* const* arrays;     // one pointer per runtime buffer
    const int64_t* sizes;    // current element count per buffer
    double t;                // the code object's clock
    double dt;
    int64_t timestep;
    uint64_t seed;
    uint64_t stream;         // random-number launches since the last seed()
    int64_t n;               // elements of this launch
    // 0, or (a launch replayed in a CUDA graph) the device's step state:
    // [stream at the step's start, then timestep and dt bits of each clock];
    // `timestep` then names the clock and `stream` is the offset in the step
    const uint64_t* step;
    // The C++ target: the elements [lo, hi) of this call, a chunk of a kernel
    // the plan splits over threads (`plan::Split`); [0, n) otherwise. CUDA: unused.
    int64_t lo;
    int64_t hi;
    // CUDA: 0, or a batched launch's copies (one per blockIdx.y), whose tables,
    // seed and element count replace those above. The C++ target: 0.
    const BriskCopy* batch;
};

#ifdef __CUDACC__
// The launch's copy (a batched launch), and its clock and random-number stream,
// from the step state when replayed in a graph.
__device__ inline BriskArgs brisk_step_args(BriskArgs a) {
    if (a.batch) {
        const BriskCopy c = a.batch[blockIdx.y];
        a.arrays = c.arrays;
        a.sizes = c.sizes;
        a.seed = c.seed;
        a.n = c.n;
        if (c.step) a.step = c.step;
    }
    if (a.step) {
        const int64_t c = a.timestep;
        const int64_t ts = (int64_t)a.step[1 + 2 * c];
        const double dt = __longlong_as_double((long long)a.step[2 + 2 * c]);
        a.timestep = ts;
        a.dt = dt;
        a.t = (double)ts * dt;
        a.stream = a.step[0] + a.stream;
    }
    return a;
}
#endif

// ---- Brian's arithmetic -------------------------------------------------
template <typename T1, typename T2> struct _brisk_higher { typedef double type; };
#define BRISK_HIGHER(A, B, R) template <> struct _brisk_higher<A, B> { typedef R type; };
BRISK_HIGHER(int32_t, int32_t, int32_t)
BRISK_HIGHER(int32_t, int64_t, int64_t)
BRISK_HIGHER(int64_t, int32_t, int64_t)
BRISK_HIGHER(int64_t, int64_t, int64_t)
BRISK_HIGHER(float, float, float)
BRISK_HIGHER(float, int32_t, float)
BRISK_HIGHER(int32_t, float, float)
BRISK_HIGHER(float, int64_t, float)
BRISK_HIGHER(int64_t, float, float)

// Python's modulo: the result has the sign of the divisor.
template <typename T1, typename T2>
BRISK_FN typename _brisk_higher<T1, T2>::type _brian_mod(T1 x, T2 y) {
    return x - y * floor(1.0 * x / y);
}
template <typename T>
BRISK_FN T _brisk_int_mod(T x, T y) {
    if (y == 0) { _brisk_zero_division(); return 0; }
    T r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return r;
}
template <> BRISK_SPEC int32_t _brian_mod(int32_t x, int32_t y) { return _brisk_int_mod<int32_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_mod(int32_t x, int64_t y) { return _brisk_int_mod<int64_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_mod(int64_t x, int32_t y) { return _brisk_int_mod<int64_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_mod(int64_t x, int64_t y) { return _brisk_int_mod<int64_t>(x, y); }

// Python's floor division.
template <typename T1, typename T2>
BRISK_FN typename _brisk_higher<T1, T2>::type _brian_floordiv(T1 x, T2 y) {
    return floor(1.0 * x / y);
}
template <typename T>
BRISK_FN T _brisk_int_floordiv(T a, T b) {
    if (b == 0) { _brisk_zero_division(); return 0; }
    T q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
}
template <> BRISK_SPEC int32_t _brian_floordiv(int32_t x, int32_t y) { return _brisk_int_floordiv<int32_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_floordiv(int32_t x, int64_t y) { return _brisk_int_floordiv<int64_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_floordiv(int64_t x, int32_t y) { return _brisk_int_floordiv<int64_t>(x, y); }
template <> BRISK_SPEC int64_t _brian_floordiv(int64_t x, int64_t y) { return _brisk_int_floordiv<int64_t>(x, y); }

#ifdef __CUDACC__
// CUDA has no std::pow overloads for integers: promote as C++11's std::pow does.
template <typename T1, typename T2>
BRISK_FN double _brisk_pow(T1 x, T2 y) { return pow((double)x, (double)y); }
BRISK_FN float _brisk_pow(float x, float y) { return powf(x, y); }
#define _brian_pow(x, y) (_brisk_pow((x), (y)))
#else
#define _brian_pow(x, y) (pow((x), (y)))
#endif

template <typename T> BRISK_FN int int_(T value) { return (int)value; }
template <> BRISK_SPEC int int_(bool value) { return value ? 1 : 0; }

BRISK_FN double _exprel(double x) {
    if (fabs(x) < 1e-16) return 1.0;
    if (x > 717) return INFINITY;
    return expm1(x) / x;
}
template <typename T>
BRISK_FN T _clip(const T value, const double a_min, const double a_max) {
    if (value < a_min) return a_min;
    if (value > a_max) return a_max;
    return value;
}
template <typename T> BRISK_FN int _sign(T val) { return (T(0) < val) - (val < T(0)); }
BRISK_FN int64_t _timestep(double t, double dt) { return (int64_t)((t + 1e-3 * dt) / dt); }
template <typename T> BRISK_FN T _brian_abs(T x) { return x < T(0) ? -x : x; }

// ---- Philox4x32-10 ---------------------------------------------------------
// Counter-based: (seed; element, draw, stream) -> 4 words. `stream` counts
// the launches that drew random numbers since the last seed(), so seed(s)
// restarts the sequence for whatever code draws next, as in Brian.
struct BriskRng {
    uint32_t k0, k1;   // key: the seed
    uint32_t c0;       // element
    uint32_t c1;       // draw number within the element
    uint32_t c2, c3;   // stream (low, high word)
    uint32_t first[4]; // draw 0, when computed ahead (brisk_rng_from_blocks)
    int has_first;
    double first_normal; // brisk_randn's first attempt on draw 0, when accepted
    int has_first_normal;
    double first_uniform; // brisk_rand's value of draw 0, when has_first
};

BRISK_FN void brisk_philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const uint64_t p0 = (uint64_t)0xD2511F53u * c[0];
        const uint64_t p1 = (uint64_t)0xCD9E8D57u * c[2];
        const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        const uint32_t n0 = hi1 ^ c[1] ^ k0;
        const uint32_t n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
    }
}

BRISK_FN BriskRng brisk_rng_make(uint64_t seed, uint64_t stream, uint32_t element) {
    BriskRng r;
    r.k0 = (uint32_t)seed;
    r.k1 = (uint32_t)(seed >> 32);
    r.c0 = element;
    r.c1 = 0;
    r.c2 = (uint32_t)stream;
    r.c3 = (uint32_t)(stream >> 32);
    r.has_first = 0;
    r.has_first_normal = 0;
    return r;
}

BRISK_FN void brisk_rng_next(BriskRng* r, uint32_t out[4]) {
    if (r->has_first) {
        r->has_first = 0;
        r->c1 += 1;
        for (int k = 0; k < 4; ++k) out[k] = r->first[k];
        return;
    }
    out[0] = r->c0;
    out[1] = r->c1;
    out[2] = r->c2;
    out[3] = r->c3;
    r->c1 += 1;
    brisk_philox(out, r->k0, r->k1);
}

// Draw 0 of BRISK_AHEAD consecutive elements, computed round by round over
// the whole block (Philox is ten rounds of dependent multiplies: one element
// at a time it is latency-bound; a block of independent elements keeps the
// multipliers busy). With AVX-512 or AVX2 (the C++ target compiles with
// -march=native) the rounds are written in intrinsics: 32x32->64-bit products
// of the even and odd lanes, the high and low words blended back. Every path
// computes brisk_philox exactly (integer arithmetic), so the numbers are the
// same as brisk_rng_make's on every machine and on the GPU.
#define BRISK_AHEAD 64
// A fused state update, threshold and reset (threshold_fused.cpp) updates this many
// elements (a multiple of BRISK_AHEAD) before it tests them: few enough that they are
// still in the L1 cache, many enough that the vectorised loop's set-up is paid rarely.
#ifndef BRISK_FUSED_BLOCK
#define BRISK_FUSED_BLOCK 256
#endif
struct BriskRngBlocks {
    uint32_t w[4][BRISK_AHEAD];
    double uniform[BRISK_AHEAD]; // brisk_u01(w[0], w[1]): brisk_rand of draw 0
    // Filled by brisk_rng_prefetch_normal (normal.h) when the code draws randn().
    int normals;
    double normal[BRISK_AHEAD];
    int normal_ok[BRISK_AHEAD];
};
// 53-bit uniform in [0, 1) from two words.
BRISK_FN double brisk_u01(uint32_t a, uint32_t b) {
    return ((a >> 5) * 67108864.0 + (b >> 6)) / 9007199254740992.0;
}
// brisk_rand's value of each element's draw 0 (a loop the compiler
// vectorises); no normals yet.
BRISK_FN void brisk_rng_fill_uniform(BriskRngBlocks* b) {
    for (int k = 0; k < BRISK_AHEAD; ++k) b->uniform[k] = brisk_u01(b->w[0][k], b->w[1][k]);
    b->normals = 0;
}
#if !defined(__CUDACC__) && defined(__AVX512F__)
#include <immintrin.h>
#define BRISK_LANES 16
typedef __m512i BriskLanes;
static inline BriskLanes brisk_lanes_set(uint32_t v) { return _mm512_set1_epi32((int)v); }
static inline BriskLanes brisk_lanes_iota(uint32_t v) {
    return _mm512_add_epi32(_mm512_set1_epi32((int)v), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}
// (hi, lo) words of m * x for each 32-bit lane of x.
static inline void brisk_lanes_mul(BriskLanes x, uint32_t m, BriskLanes* hi, BriskLanes* lo) {
    const __m512i mm = _mm512_set1_epi64((long long)m);
    const __m512i even = _mm512_mul_epu32(x, mm), odd = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), mm);
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    *lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
}
static inline BriskLanes brisk_lanes_xor3(BriskLanes a, BriskLanes b, BriskLanes c) {
    return _mm512_ternarylogic_epi32(a, b, c, 0x96);
}
static inline void brisk_lanes_store(uint32_t* p, BriskLanes v) { _mm512_storeu_si512((void*)p, v); }
#elif !defined(__CUDACC__) && defined(__AVX2__)
#include <immintrin.h>
#define BRISK_LANES 8
typedef __m256i BriskLanes;
static inline BriskLanes brisk_lanes_set(uint32_t v) { return _mm256_set1_epi32((int)v); }
static inline BriskLanes brisk_lanes_iota(uint32_t v) {
    return _mm256_add_epi32(_mm256_set1_epi32((int)v), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline void brisk_lanes_mul(BriskLanes x, uint32_t m, BriskLanes* hi, BriskLanes* lo) {
    const __m256i mm = _mm256_set1_epi64x((long long)m);
    const __m256i even = _mm256_mul_epu32(x, mm), odd = _mm256_mul_epu32(_mm256_srli_epi64(x, 32), mm);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}
static inline BriskLanes brisk_lanes_xor3(BriskLanes a, BriskLanes b, BriskLanes c) {
    return _mm256_xor_si256(_mm256_xor_si256(a, b), c);
}
static inline void brisk_lanes_store(uint32_t* p, BriskLanes v) { _mm256_storeu_si256((__m256i*)p, v); }
#endif

#ifdef BRISK_LANES
static inline void brisk_rng_prefetch(BriskRngBlocks* b, uint64_t seed, uint64_t stream, int64_t first) {
    enum { G = BRISK_AHEAD / BRISK_LANES };
    BriskLanes c0[G], c1[G], c2[G], c3[G];
    for (int g = 0; g < G; ++g) {
        c0[g] = brisk_lanes_iota((uint32_t)(first + g * BRISK_LANES));
        c1[g] = brisk_lanes_set(0u);
        c2[g] = brisk_lanes_set((uint32_t)stream);
        c3[g] = brisk_lanes_set((uint32_t)(stream >> 32));
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        const BriskLanes K0 = brisk_lanes_set(k0), K1 = brisk_lanes_set(k1);
        for (int g = 0; g < G; ++g) {
            BriskLanes hi0, lo0, hi1, lo1;
            brisk_lanes_mul(c0[g], 0xD2511F53u, &hi0, &lo0);
            brisk_lanes_mul(c2[g], 0xCD9E8D57u, &hi1, &lo1);
            c0[g] = brisk_lanes_xor3(hi1, c1[g], K0);
            c2[g] = brisk_lanes_xor3(hi0, c3[g], K1);
            c1[g] = lo1;
            c3[g] = lo0;
        }
    }
    for (int g = 0; g < G; ++g) {
        brisk_lanes_store(&b->w[0][g * BRISK_LANES], c0[g]);
        brisk_lanes_store(&b->w[1][g * BRISK_LANES], c1[g]);
        brisk_lanes_store(&b->w[2][g * BRISK_LANES], c2[g]);
        brisk_lanes_store(&b->w[3][g * BRISK_LANES], c3[g]);
    }
    brisk_rng_fill_uniform(b);
}
#else
BRISK_FN void brisk_rng_prefetch(BriskRngBlocks* b, uint64_t seed, uint64_t stream, int64_t first) {
    uint32_t* c0 = b->w[0];
    uint32_t* c1 = b->w[1];
    uint32_t* c2 = b->w[2];
    uint32_t* c3 = b->w[3];
    for (int k = 0; k < BRISK_AHEAD; ++k) {
        c0[k] = (uint32_t)(first + k);
        c1[k] = 0u;
        c2[k] = (uint32_t)stream;
        c3[k] = (uint32_t)(stream >> 32);
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += 0x9E3779B9u;
            k1 += 0xBB67AE85u;
        }
        for (int k = 0; k < BRISK_AHEAD; ++k) {
            const uint64_t p0 = (uint64_t)0xD2511F53u * c0[k];
            const uint64_t p1 = (uint64_t)0xCD9E8D57u * c2[k];
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[k] ^ k0;
            const uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3[k] ^ k1;
            c1[k] = (uint32_t)p1;
            c3[k] = (uint32_t)p0;
            c0[k] = n0;
            c2[k] = n2;
        }
    }
    brisk_rng_fill_uniform(b);
}
#endif
// The generator of `element`; its block must be in `b` (filled from a
// multiple of BRISK_AHEAD at or below `element`).
BRISK_FN BriskRng brisk_rng_from_blocks(const BriskRngBlocks* b, uint64_t seed, uint64_t stream, int64_t element) {
    BriskRng r = brisk_rng_make(seed, stream, (uint32_t)element);
    const int k = (int)((uint64_t)element % BRISK_AHEAD);
    for (int q = 0; q < 4; ++q) r.first[q] = b->w[q][k];
    r.first_uniform = b->uniform[k];
    r.has_first = 1;
    if (b->normals && b->normal_ok[k]) {
        r.first_normal = b->normal[k];
        r.has_first_normal = 1;
    }
    return r;
}


BRISK_FN double brisk_rand(BriskRng* r) {
    if (r->has_first) {
        r->has_first = 0;
        r->c1 += 1;
        return r->first_uniform;
    }
    uint32_t w[4];
    brisk_rng_next(r, w);
    return brisk_u01(w[0], w[1]);
}

// poisson(lam): inversion by multiplication for small lam, normal-corrected
// transformed rejection (PTRS, Hormann 1993) for lam >= 10.
BRISK_FN double brisk_loggam(double x) {
    return lgamma(x);
}
BRISK_FN int32_t brisk_poisson(BriskRng* r, double lam) {
    if (lam <= 0.0) return 0;
    if (lam < 10.0) {
        const double enlam = exp(-lam);
        int32_t x = 0;
        double prod = 1.0;
        while (true) {
            prod *= brisk_rand(r);
            if (prod > enlam) x += 1; else return x;
        }
    }
    const double slam = sqrt(lam), loglam = log(lam);
    const double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    const double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    while (true) {
        const double U = brisk_rand(r) - 0.5, V = brisk_rand(r);
        const double us = 0.5 - fabs(U);
        const int64_t k = (int64_t)floor((2 * a / us + b) * U + lam + 0.43);
        if (us >= 0.07 && V <= vr) return (int32_t)k;
        if (k < 0 || (us < 0.013 && V > us)) continue;
        if (log(V) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - brisk_loggam(k + 1))
            return (int32_t)k;
    }
}

// ---- Shared-memory updates ------------------------------------------------
// Atomic on the GPU (several threads may update one element), plain on the
// CPU (one thread, in Brian's order, so results match cpp_standalone exactly).
#ifdef __CUDACC__
__device__ inline void brisk_atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ inline void brisk_atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ inline void brisk_atomic_add(int32_t* p, int32_t v) { atomicAdd((int*)p, (int)v); }
__device__ inline void brisk_atomic_add(int64_t* p, int64_t v) {
    atomicAdd((unsigned long long*)p, (unsigned long long)v);
}
// Records the first error of a launch: (code, element, value).
__device__ inline void brisk_flag_error(int64_t* e, int64_t code, int64_t element, int64_t value) {
    if (atomicCAS((unsigned long long*)e, 0ull, (unsigned long long)code) == 0ull) {
        e[1] = element;
        e[2] = value;
    }
}
#else
template <typename T> static inline void brisk_atomic_add(T* p, T v) { *p += v; }
static inline void brisk_flag_error(int64_t* e, int64_t code, int64_t element, int64_t value) {
    if (e[0] == 0) {
        e[0] = code;
        e[1] = element;
        e[2] = value;
    }
}
#endif
// connect() error codes (read by the runtime).
#define BRISK_ERR_TARGET_RANGE 1
#define BRISK_ERR_SAMPLE_TOO_BIG 2
#define BRISK_ERR_SAMPLE_NEGATIVE 3
#define BRISK_ERR_ARRAY_RANGE 4

// First position in [lo, hi) of the ascending a[] whose value is >= v.
BRISK_FN int64_t brisk_lower_bound(const int32_t* a, int64_t lo, int64_t hi, int64_t v) {
    while (lo < hi) {
        const int64_t m = lo + (hi - lo) / 2;
        if (a[m] < v) lo = m + 1; else hi = m;
    }
    return lo;
}
/* The owner of entry m of a table of synapses: the synapse itself (owner 0), or its
   element owner[synapse] (plan::Split::Synapses, plan::Split::Targets). */
BRISK_FN int64_t brisk_owner_of(const int32_t* synapse, const int32_t* owner, int64_t m) {
    return owner ? owner[synapse[m]] : synapse[m];
}
/* The first position in [lo, hi) whose (key[m], owner of m) is not below (k, v), the pairs
   ascending in m. */
BRISK_FN int64_t brisk_lower_bound_owner(const int32_t* key, const int32_t* synapse, const int32_t* owner, int64_t lo, int64_t hi, int64_t k, int64_t v) {
    while (lo < hi) {
        const int64_t m = lo + (hi - lo) / 2;
        if (key[m] < k || (key[m] == k && brisk_owner_of(synapse, owner, m) < v)) lo = m + 1; else hi = m;
    }
    return lo;
}
/* The first position in [lo, hi) of a descending array whose value is below v. */
BRISK_FN int64_t brisk_below_desc(const int32_t* a, int64_t lo, int64_t hi, int64_t v) {
    while (lo < hi) {
        const int64_t m = lo + (hi - lo) / 2;
        if (a[m] >= v) lo = m + 1; else hi = m;
    }
    return lo;
}
/* brisk_lower_bound over the keys key[at[m]] (ascending in m). */
BRISK_FN int64_t brisk_lower_bound_via(const int32_t* key, const int32_t* at, int64_t lo, int64_t hi, int64_t v) {
    while (lo < hi) {
        const int64_t m = lo + (hi - lo) / 2;
        if (key[at[m]] < v) lo = m + 1; else hi = m;
    }
    return lo;
}
