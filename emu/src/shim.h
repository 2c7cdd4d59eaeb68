// The emulated CUDA driver's shim: lets the system C++ compiler build CUDA
// device code for the CPU. Prepended to a module's CUDA source by the
// emulator (emu/src/module.rs); not for NVRTC or nvcc.
//
// What it provides, and how it maps CUDA's semantics:
// * execution-space keywords (__global__, __device__, __host__, ...) vanish;
// * threadIdx, blockIdx, blockDim, gridDim read `brisk_emu_module`, which the
//   scheduler (emu/src/sched.rs) sets before it resumes each thread;
// * __shared__ variables are statics in the section `brisk_emu_shared`: one
//   block runs at a time, and the emulator fills the section with 0xff bytes
//   before each block so that a missing initialisation shows;
// * __syncthreads and the warp collectives (ballot, any, all, shfl, syncwarp)
//   suspend the calling thread (a fiber) until the scheduler releases them;
// * atomics are plain read-modify-writes: threads switch only at barriers
//   and collectives, so nothing can interleave with them;
// * CUDA's math overloads (float versions in the global namespace) come from
//   <cmath>; intrinsics are written out below.
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <climits>
#include <cfloat>
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>

// ---- the module's state, shared with the emulator (BriskEmuModule in module.rs)
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1) : x(x_), y(y_), z(z_) {}
};

#define BRISK_EMU_ABI 1u
// Collective operations (the scheduler's `Op`).
#define BRISK_EMU_BARRIER 0u
#define BRISK_EMU_SYNCWARP 1u
#define BRISK_EMU_BALLOT 2u
#define BRISK_EMU_ANY 3u
#define BRISK_EMU_ALL 4u
#define BRISK_EMU_SHFL 5u
#define BRISK_EMU_SHFL_UP 6u
#define BRISK_EMU_SHFL_DOWN 7u
#define BRISK_EMU_SHFL_XOR 8u
#define BRISK_EMU_YIELD 9u
#define BRISK_EMU_ABORT 10u
#define BRISK_EMU_ACTIVEMASK 11u
// Barrier variants (the `arg` of BRISK_EMU_BARRIER).
#define BRISK_EMU_BAR_SYNC 0u
#define BRISK_EMU_BAR_COUNT 1u
#define BRISK_EMU_BAR_AND 2u
#define BRISK_EMU_BAR_OR 3u

extern "C" {
struct BriskEmuModule {
    uint32_t abi;
    uint32_t reserved;
    uint3 thread_idx;
    uint3 block_idx;
    uint3 block_dim;
    uint3 grid_dim;
    // Suspends the calling thread at a collective; returns its result.
    uint64_t (*collective)(uint32_t op, uint32_t mask, uint64_t value, uint32_t arg);
    uint64_t atomics;
    char* shared_start;
    char* shared_stop;
};
extern char __start_brisk_emu_shared[];
extern char __stop_brisk_emu_shared[];
__attribute__((section("brisk_emu_shared"))) char brisk_emu_shared_anchor[16];
BriskEmuModule brisk_emu_module = {
    BRISK_EMU_ABI, 0, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, {1, 1, 1}, nullptr, 0,
    __start_brisk_emu_shared, __stop_brisk_emu_shared};
}

#define threadIdx (static_cast<const uint3&>(brisk_emu_module.thread_idx))
#define blockIdx (static_cast<const uint3&>(brisk_emu_module.block_idx))
#define blockDim (static_cast<const uint3&>(brisk_emu_module.block_dim))
#define gridDim (static_cast<const uint3&>(brisk_emu_module.grid_dim))
#define warpSize 32

// ---- keywords -----------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ __attribute__((section("brisk_emu_shared"))) static
#define __CUDACC__ 1
#define __CUDA_ARCH__ 900

// ---- barriers and warp collectives ---------------------------------------------
static inline uint64_t brisk_emu_collective(uint32_t op, uint32_t mask, uint64_t value, uint32_t arg) {
    return brisk_emu_module.collective(op, mask, value, arg);
}
static inline void __syncthreads() { brisk_emu_collective(BRISK_EMU_BARRIER, 0, 0, BRISK_EMU_BAR_SYNC); }
static inline int __syncthreads_count(int p) {
    return (int)brisk_emu_collective(BRISK_EMU_BARRIER, 0, p != 0, BRISK_EMU_BAR_COUNT);
}
static inline int __syncthreads_and(int p) {
    return (int)brisk_emu_collective(BRISK_EMU_BARRIER, 0, p != 0, BRISK_EMU_BAR_AND);
}
static inline int __syncthreads_or(int p) {
    return (int)brisk_emu_collective(BRISK_EMU_BARRIER, 0, p != 0, BRISK_EMU_BAR_OR);
}
static inline void __syncwarp(unsigned int mask = 0xffffffffu) { brisk_emu_collective(BRISK_EMU_SYNCWARP, mask, 0, 0); }
static inline unsigned int __ballot_sync(unsigned int mask, int p) {
    return (unsigned int)brisk_emu_collective(BRISK_EMU_BALLOT, mask, p != 0, 0);
}
static inline int __any_sync(unsigned int mask, int p) { return (int)brisk_emu_collective(BRISK_EMU_ANY, mask, p != 0, 0); }
static inline int __all_sync(unsigned int mask, int p) { return (int)brisk_emu_collective(BRISK_EMU_ALL, mask, p != 0, 0); }
// The lanes of the warp that have not exited (no collective: informational, as on a GPU).
static inline unsigned int __activemask() {
    return (unsigned int)brisk_emu_collective(BRISK_EMU_ACTIVEMASK, 0, 0, 0);
}

template <typename T> static inline uint64_t brisk_emu_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    uint64_t b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T> static inline T brisk_emu_from_bits(uint64_t b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}
#define BRISK_EMU_SHFL_ARG(lane, width) ((uint32_t)((lane) & 0xffff) | ((uint32_t)((width) & 0xff) << 16))
template <typename T> static inline T __shfl_sync(unsigned int mask, T var, int src, int width = 32) {
    return brisk_emu_from_bits<T>(brisk_emu_collective(BRISK_EMU_SHFL, mask, brisk_emu_bits(var), BRISK_EMU_SHFL_ARG(src, width)));
}
template <typename T> static inline T __shfl_up_sync(unsigned int mask, T var, unsigned int delta, int width = 32) {
    return brisk_emu_from_bits<T>(brisk_emu_collective(BRISK_EMU_SHFL_UP, mask, brisk_emu_bits(var), BRISK_EMU_SHFL_ARG(delta, width)));
}
template <typename T> static inline T __shfl_down_sync(unsigned int mask, T var, unsigned int delta, int width = 32) {
    return brisk_emu_from_bits<T>(brisk_emu_collective(BRISK_EMU_SHFL_DOWN, mask, brisk_emu_bits(var), BRISK_EMU_SHFL_ARG(delta, width)));
}
template <typename T> static inline T __shfl_xor_sync(unsigned int mask, T var, int lane_mask, int width = 32) {
    return brisk_emu_from_bits<T>(brisk_emu_collective(BRISK_EMU_SHFL_XOR, mask, brisk_emu_bits(var), BRISK_EMU_SHFL_ARG(lane_mask, width)));
}
// A spinning thread lets the others of its block run.
static inline void __nanosleep(unsigned int) { brisk_emu_collective(BRISK_EMU_YIELD, 0, 0, 0); }
// Ends the launch with CUDA_ERROR_ASSERT / CUDA_ERROR_LAUNCH_FAILED naming the thread.
[[noreturn]] static inline void brisk_emu_abort(const char* what) {
    brisk_emu_collective(BRISK_EMU_ABORT, 0, (uint64_t)(uintptr_t)what, 0);
    std::abort();  // never reached: an aborted thread is not resumed
}
[[noreturn]] static inline void __trap() { brisk_emu_abort("__trap()"); }
#define BRISK_EMU_STR2(x) #x
#define BRISK_EMU_STR(x) BRISK_EMU_STR2(x)
#undef assert
#define assert(c) ((c) ? (void)0 : brisk_emu_abort("assertion failed: " #c " (line " BRISK_EMU_STR(__LINE__) ")"))

static inline void __threadfence() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_block() { __asm__ __volatile__("" ::: "memory"); }
static inline void __threadfence_system() { __asm__ __volatile__("" ::: "memory"); }
static inline long long clock64() {
    static long long ticks = 0;
    return ++ticks;
}

// ---- atomics (plain: no other thread runs until this one reaches a collective)
#define BRISK_EMU_COUNT_ATOMIC() (brisk_emu_module.atomics++)
template <typename T> static inline T brisk_emu_wrap_add(T a, T b) {
    typedef typename std::make_unsigned<T>::type U;
    return (T)((U)a + (U)b);
}
static inline int atomicAdd(int* p, int v) { BRISK_EMU_COUNT_ATOMIC(); int o = *p; *p = brisk_emu_wrap_add(o, v); return o; }
static inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { BRISK_EMU_COUNT_ATOMIC(); unsigned int o = *p; *p = o + v; return o; }
static inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { BRISK_EMU_COUNT_ATOMIC(); unsigned long long o = *p; *p = o + v; return o; }
static inline float atomicAdd(float* p, float v) { BRISK_EMU_COUNT_ATOMIC(); float o = *p; *p = o + v; return o; }
static inline double atomicAdd(double* p, double v) { BRISK_EMU_COUNT_ATOMIC(); double o = *p; *p = o + v; return o; }
static inline int atomicSub(int* p, int v) { BRISK_EMU_COUNT_ATOMIC(); int o = *p; *p = brisk_emu_wrap_add(o, -v); return o; }
static inline unsigned int atomicSub(unsigned int* p, unsigned int v) { BRISK_EMU_COUNT_ATOMIC(); unsigned int o = *p; *p = o - v; return o; }
template <typename T> static inline T brisk_emu_exch(T* p, T v) { BRISK_EMU_COUNT_ATOMIC(); T o = *p; *p = v; return o; }
static inline int atomicExch(int* p, int v) { return brisk_emu_exch(p, v); }
static inline unsigned int atomicExch(unsigned int* p, unsigned int v) { return brisk_emu_exch(p, v); }
static inline unsigned long long atomicExch(unsigned long long* p, unsigned long long v) { return brisk_emu_exch(p, v); }
static inline float atomicExch(float* p, float v) { return brisk_emu_exch(p, v); }
template <typename T> static inline T brisk_emu_min(T* p, T v) { BRISK_EMU_COUNT_ATOMIC(); T o = *p; if (v < o) *p = v; return o; }
template <typename T> static inline T brisk_emu_max(T* p, T v) { BRISK_EMU_COUNT_ATOMIC(); T o = *p; if (v > o) *p = v; return o; }
static inline int atomicMin(int* p, int v) { return brisk_emu_min(p, v); }
static inline unsigned int atomicMin(unsigned int* p, unsigned int v) { return brisk_emu_min(p, v); }
static inline long long atomicMin(long long* p, long long v) { return brisk_emu_min(p, v); }
static inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) { return brisk_emu_min(p, v); }
static inline int atomicMax(int* p, int v) { return brisk_emu_max(p, v); }
static inline unsigned int atomicMax(unsigned int* p, unsigned int v) { return brisk_emu_max(p, v); }
static inline long long atomicMax(long long* p, long long v) { return brisk_emu_max(p, v); }
static inline unsigned long long atomicMax(unsigned long long* p, unsigned long long v) { return brisk_emu_max(p, v); }
static inline unsigned int atomicInc(unsigned int* p, unsigned int v) {
    BRISK_EMU_COUNT_ATOMIC(); unsigned int o = *p; *p = (o >= v) ? 0 : o + 1; return o;
}
static inline unsigned int atomicDec(unsigned int* p, unsigned int v) {
    BRISK_EMU_COUNT_ATOMIC(); unsigned int o = *p; *p = (o == 0 || o > v) ? v : o - 1; return o;
}
template <typename T> static inline T brisk_emu_cas(T* p, T expected, T v) {
    BRISK_EMU_COUNT_ATOMIC(); T o = *p; if (o == expected) *p = v; return o;
}
static inline int atomicCAS(int* p, int e, int v) { return brisk_emu_cas(p, e, v); }
static inline unsigned int atomicCAS(unsigned int* p, unsigned int e, unsigned int v) { return brisk_emu_cas(p, e, v); }
static inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long e, unsigned long long v) { return brisk_emu_cas(p, e, v); }
static inline unsigned short atomicCAS(unsigned short* p, unsigned short e, unsigned short v) { return brisk_emu_cas(p, e, v); }
#define BRISK_EMU_BITWISE(NAME, OP) \
    static inline int NAME(int* p, int v) { BRISK_EMU_COUNT_ATOMIC(); int o = *p; *p = o OP v; return o; } \
    static inline unsigned int NAME(unsigned int* p, unsigned int v) { BRISK_EMU_COUNT_ATOMIC(); unsigned int o = *p; *p = o OP v; return o; } \
    static inline unsigned long long NAME(unsigned long long* p, unsigned long long v) { BRISK_EMU_COUNT_ATOMIC(); unsigned long long o = *p; *p = o OP v; return o; }
BRISK_EMU_BITWISE(atomicAnd, &)
BRISK_EMU_BITWISE(atomicOr, |)
BRISK_EMU_BITWISE(atomicXor, ^)
#undef BRISK_EMU_BITWISE
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd

// ---- integer and bit intrinsics ------------------------------------------------
static inline int __popc(unsigned int x) { return __builtin_popcount(x); }
static inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned int)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline int __ffsll(long long x) { return __builtin_ffsll(x); }
static inline unsigned int __brev(unsigned int x) {
    unsigned int r = 0;
    for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
    return r;
}
static inline unsigned int __umulhi(unsigned int a, unsigned int b) { return (unsigned int)(((unsigned long long)a * b) >> 32); }
static inline int __mulhi(int a, int b) { return (int)(((long long)a * b) >> 32); }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}
static inline long long __mul64hi(long long a, long long b) { return (long long)(((__int128)a * b) >> 64); }
static inline int __mul24(int a, int b) { return a * b; }
static inline unsigned int __umul24(unsigned int a, unsigned int b) { return a * b; }

// ---- floating-point intrinsics -------------------------------------------------
static inline long long __double_as_longlong(double x) { return brisk_emu_from_bits<long long>(brisk_emu_bits(x)); }
static inline double __longlong_as_double(long long x) { return brisk_emu_from_bits<double>(brisk_emu_bits(x)); }
static inline int __float_as_int(float x) { return brisk_emu_from_bits<int>(brisk_emu_bits(x)); }
static inline float __int_as_float(int x) { return brisk_emu_from_bits<float>(brisk_emu_bits(x)); }
static inline unsigned int __float_as_uint(float x) { return brisk_emu_from_bits<unsigned int>(brisk_emu_bits(x)); }
static inline float __uint_as_float(unsigned int x) { return brisk_emu_from_bits<float>(brisk_emu_bits(x)); }
static inline int __double2hiint(double x) { return (int)(__double_as_longlong(x) >> 32); }
static inline int __double2loint(double x) { return (int)(__double_as_longlong(x) & 0xffffffff); }
static inline double __hiloint2double(int hi, int lo) {
    return __longlong_as_double((long long)(((unsigned long long)(unsigned int)hi << 32) | (unsigned int)lo));
}
static inline float __fdividef(float a, float b) { return a / b; }
static inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : (x == x ? x : 0.0f)); }
static inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
static inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
static inline float __fadd_rn(float a, float b) { return a + b; }
static inline double __dadd_rn(double a, double b) { return a + b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline double __dmul_rn(double a, double b) { return a * b; }
static inline float __fdiv_rn(float a, float b) { return a / b; }
static inline double __ddiv_rn(double a, double b) { return a / b; }
static inline float __frcp_rn(float a) { return 1.0f / a; }
static inline double __drcp_rn(double a) { return 1.0 / a; }
static inline float __fsqrt_rn(float a) { return std::sqrt(a); }
static inline double __dsqrt_rn(double a) { return std::sqrt(a); }
static inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
static inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
static inline double rcbrt(double x) { return 1.0 / std::cbrt(x); }
static inline float rcbrtf(float x) { return 1.0f / std::cbrt(x); }
static inline double sinpi(double x) { return std::sin(M_PI * x); }
static inline double cospi(double x) { return std::cos(M_PI * x); }
static inline float sinpif(float x) { return std::sin((float)M_PI * x); }
static inline float cospif(float x) { return std::cos((float)M_PI * x); }
static inline double normcdf(double x) { return 0.5 * std::erfc(-x * M_SQRT1_2); }
static inline float normcdff(float x) { return 0.5f * std::erfc(-x * (float)M_SQRT1_2); }
template <typename T> static inline T __ldg(const T* p) { return *p; }

// CUDA's math overloads (float versions in the global namespace).
using std::abs; using std::fabs; using std::exp; using std::exp2; using std::expm1; using std::log;
using std::log2; using std::log10; using std::log1p; using std::pow; using std::sqrt; using std::cbrt;
using std::sin; using std::cos; using std::tan; using std::asin; using std::acos; using std::atan;
using std::atan2; using std::sinh; using std::cosh; using std::tanh; using std::asinh; using std::acosh;
using std::atanh; using std::floor; using std::ceil; using std::round; using std::trunc; using std::fmod;
using std::remainder; using std::fmin; using std::fmax; using std::fdim; using std::fma; using std::hypot;
using std::erf; using std::erfc; using std::tgamma; using std::lgamma; using std::copysign;
using std::nextafter; using std::ldexp; using std::frexp; using std::modf; using std::scalbn;
using std::ilogb; using std::logb; using std::rint; using std::lrint; using std::llrint; using std::lround;
using std::llround; using std::nearbyint; using std::isnan; using std::isinf; using std::isfinite;
using std::signbit;
template <typename A, typename B> static inline auto min(A a, B b) -> typename std::common_type<A, B>::type {
    return b < a ? b : a;
}
template <typename A, typename B> static inline auto max(A a, B b) -> typename std::common_type<A, B>::type {
    return a < b ? b : a;
}

// ---- launching: a kernel's parameters from cuLaunchKernel's `void**` -------------
template <typename... A, size_t... I>
static inline void brisk_emu_invoke_at(void (*f)(A...), void** p, std::index_sequence<I...>) {
    f(*static_cast<typename std::decay<A>::type*>(p[I])...);
}
template <typename... A> static inline void brisk_emu_invoke(void (*f)(A...), void** p) {
    brisk_emu_invoke_at(f, p, std::index_sequence_for<A...>{});
}
// Parameter `i`'s size, or the number of parameters for i == UINT64_MAX.
template <typename... A> static inline uint64_t brisk_emu_param_size(void (*)(A...), uint64_t i) {
    const uint64_t sizes[] = {0, sizeof(typename std::decay<A>::type)...};
    return i == UINT64_MAX ? (uint64_t)sizeof...(A) : (i < sizeof...(A) ? sizes[i + 1] : 0);
}
