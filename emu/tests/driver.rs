//! The emulated driver against small CUDA kernels written for it: barriers,
//! warp collectives, schedules, launch shapes, parameters, and every launch
//! failure the emulator reports (divergent collectives, exited lanes, faults,
//! arithmetic traps, assertions, stack overflows), with sticky errors.
//!
//! The kernels are compiled by the system C++ compiler under the shim (no
//! NVRTC is needed: the "PTX" here only declares the entries).

use std::ffi::{c_void, CStr, CString};
use std::sync::{Mutex, MutexGuard};

use brisk_cuda_emu::api::*;
use brisk_cuda_emu::config::Schedule;
use cudarc::driver::sys::{CUcontext, CUdeviceptr, CUfunction, CUmodule, CUresult};

/// The driver is one per process: tests take turns.
static TURN: Mutex<()> = Mutex::new(());

const SOURCE: &str = r#"
#define N 256
extern "C" __global__ void k_barrier(int* out) {
    __shared__ int s[N];
    s[threadIdx.x] = threadIdx.x;
    __syncthreads();
    out[blockIdx.x * N + threadIdx.x] = s[N - 1 - threadIdx.x];
}
extern "C" __global__ void k_no_barrier(int* out) {
    __shared__ int s[N];
    s[threadIdx.x] = threadIdx.x;
    out[threadIdx.x] = s[N - 1 - threadIdx.x];
}
extern "C" __global__ void k_warp(unsigned int* out) {
    const int t = threadIdx.x, lane = t & 31;
    out[4 * t + 0] = __ballot_sync(0xffffffffu, lane % 3 == 0);
    out[4 * t + 1] = __shfl_sync(0xffffffffu, t * 10, 5);
    out[4 * t + 2] = __shfl_down_sync(0xffffffffu, t, 1) + 1000 * __any_sync(0xffffffffu, lane == 7);
    out[4 * t + 3] = __shfl_xor_sync(0xffffffffu, t, 16, 32) + 1000 * __all_sync(0xffffffffu, lane < 31);
}
extern "C" __global__ void k_count(int* out) {
    out[threadIdx.x] = __syncthreads_count(threadIdx.x % 4 == 0) + 1000 * __syncthreads_or(threadIdx.x == 9);
}
extern "C" __global__ void k_shape(int* out) {
    const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    out[b * blockDim.x * blockDim.y * blockDim.z + t] = 1000 * b + t;
}
extern "C" __global__ void k_params(int a, double b, long long* out) {
    if (threadIdx.x == 0) out[0] = a + (long long)(b * 10);
}
extern "C" __global__ void k_atomic(double* sum, int* count) {
    atomicAdd(sum, 0.5);
    atomicAdd(count, 1);
}
extern "C" __global__ void k_last_writer(int* out) {
    out[0] = threadIdx.x + blockDim.x * blockIdx.x;
}
extern "C" __global__ void k_noop(int* out) {
    if (out[0] == 12345) out[1] = threadIdx.x;
}
extern "C" __global__ void k_divergent(int* out) {
    if (threadIdx.x < 16) out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);
    else __syncthreads();
}
extern "C" __global__ void k_exited_lane(int* out) {
    if (threadIdx.x == 3) return;
    out[threadIdx.x] = __ballot_sync(0xffffffffu, 1);
}
extern "C" __global__ void k_out_of_bounds(int* out, int n) {
    if (blockIdx.x == 1 && threadIdx.x == 7) out[n + 4] = 1;
}
extern "C" __global__ void k_divide(int* out) {
    volatile int zero = out[0];
    out[1] = 7 / zero;
}
extern "C" __global__ void k_assert(int* out) {
    assert(out[0] == 12345);
}
__device__ int brisk_emu_deep(int n) {
    volatile char pad[256];
    pad[0] = (char)n;
    return n == 0 ? 0 : brisk_emu_deep(n - 1) + pad[0];
}
extern "C" __global__ void k_stack_overflow(int* out) {
    out[0] = brisk_emu_deep(1 << 20);
}
"#;

const KERNELS: &[(&str, &[usize])] = &[
    ("k_barrier", &[8]),
    ("k_no_barrier", &[8]),
    ("k_warp", &[8]),
    ("k_count", &[8]),
    ("k_shape", &[8]),
    ("k_params", &[4, 8, 8]),
    ("k_atomic", &[8, 8]),
    ("k_last_writer", &[8]),
    ("k_noop", &[8]),
    ("k_divergent", &[8]),
    ("k_exited_lane", &[8]),
    ("k_out_of_bounds", &[8, 4]),
    ("k_divide", &[8]),
    ("k_assert", &[8]),
    ("k_stack_overflow", &[8]),
];

/// PTX declaring the kernels (what NVRTC would write for them), then the source.
fn image() -> CString {
    let mut ptx = String::from(".version 9.0\n.target sm_90\n.address_size 64\n");
    for (name, params) in KERNELS {
        ptx.push_str(&format!(".visible .entry {name}(\n"));
        let decls: Vec<String> = params
            .iter()
            .enumerate()
            .map(|(i, &b)| format!("\t.param .u{} {name}_param_{i}", b * 8))
            .collect();
        ptx.push_str(&decls.join(",\n"));
        ptx.push_str("\n)\n{\n\tret;\n}\n");
    }
    CString::new(brisk_cuda_emu::module::image_with_source(&ptx, SOURCE)).unwrap()
}

fn ok(r: CUresult) {
    assert_eq!(r, CUresult::CUDA_SUCCESS, "{}", describe(r));
}

fn describe(r: CUresult) -> String {
    let mut p = std::ptr::null();
    if cuGetErrorString(r as u32, &mut p) != CUresult::CUDA_SUCCESS || p.is_null() {
        return format!("{r:?}");
    }
    // SAFETY: the driver returns a NUL-terminated string that it keeps alive.
    format!("{r:?}: {}", unsafe { CStr::from_ptr(p) }.to_string_lossy())
}

struct Device {
    _turn: MutexGuard<'static, ()>,
    module: CUmodule,
}

impl Device {
    fn new(schedule: Schedule) -> Device {
        let turn = TURN.lock().unwrap_or_else(|p| p.into_inner());
        ok(cuInit(0));
        brisk_cuda_emu::api::configure(|c| c.schedule = schedule);
        let mut ctx: CUcontext = std::ptr::null_mut();
        ok(cuDevicePrimaryCtxRetain(&mut ctx, 0));
        ok(cuCtxSetCurrent(ctx));
        let mut module: CUmodule = std::ptr::null_mut();
        let image = image();
        ok(cuModuleLoadData(&mut module, image.as_ptr().cast()));
        Device {
            _turn: turn,
            module,
        }
    }

    fn function(&self, name: &str) -> CUfunction {
        let mut f: CUfunction = std::ptr::null_mut();
        let c = CString::new(name).unwrap();
        ok(cuModuleGetFunction(&mut f, self.module, c.as_ptr()));
        f
    }

    fn alloc(&self, bytes: usize) -> CUdeviceptr {
        let mut p: CUdeviceptr = 0;
        ok(cuMemAlloc_v2(&mut p, bytes));
        ok(cuMemsetD8_v2(p, 0, bytes));
        p
    }

    fn launch(
        &self,
        name: &str,
        grid: [u32; 3],
        block: [u32; 3],
        params: &mut [*mut c_void],
    ) -> CUresult {
        let f = self.function(name);
        cuLaunchKernel(
            f,
            grid[0],
            grid[1],
            grid[2],
            block[0],
            block[1],
            block[2],
            0,
            std::ptr::null_mut(),
            params.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    }

    fn read<T: Copy + Default>(&self, p: CUdeviceptr, n: usize) -> Result<Vec<T>, CUresult> {
        let mut out = vec![T::default(); n];
        match cuMemcpyDtoH_v2(out.as_mut_ptr().cast(), p, n * std::mem::size_of::<T>()) {
            CUresult::CUDA_SUCCESS => Ok(out),
            e => Err(e),
        }
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        // The last release ends the context: memory, modules and any sticky error go.
        let _ = cuModuleUnload(self.module);
        let _ = cuDevicePrimaryCtxRelease_v2(0);
    }
}

fn arg<T>(v: &mut T) -> *mut c_void {
    (v as *mut T).cast()
}

#[test]
fn a_barrier_orders_shared_memory_under_every_schedule() {
    for s in [Schedule::Forward, Schedule::Reverse, Schedule::Shuffle(3)] {
        let d = Device::new(s);
        let mut out = d.alloc(3 * 256 * 4);
        ok(d.launch("k_barrier", [3, 1, 1], [256, 1, 1], &mut [arg(&mut out)]));
        let got: Vec<i32> = d.read(out, 3 * 256).unwrap();
        let want: Vec<i32> = (0..3).flat_map(|_| (0..256).rev()).collect();
        assert_eq!(got, want, "schedule {s:?}");
    }
}

#[test]
fn a_missing_barrier_reads_poisoned_shared_memory() {
    for s in [Schedule::Forward, Schedule::Reverse] {
        let d = Device::new(s);
        let mut out = d.alloc(256 * 4);
        ok(d.launch("k_no_barrier", [1, 1, 1], [256, 1, 1], &mut [arg(&mut out)]));
        let got: Vec<i32> = d.read(out, 256).unwrap();
        let right = got
            .iter()
            .enumerate()
            .filter(|(t, &v)| v == 255 - *t as i32)
            .count();
        // Each thread reads its partner before (forward: the partner has not run yet) or
        // after (reverse) ... but never all of them: the poison (-1) shows.
        assert!(
            got.contains(&-1),
            "schedule {s:?}: {right} of 256 right, no poison seen"
        );
    }
}

#[test]
fn warp_collectives() {
    let d = Device::new(Schedule::Reverse);
    let mut out = d.alloc(64 * 4 * 4);
    ok(d.launch("k_warp", [1, 1, 1], [64, 1, 1], &mut [arg(&mut out)]));
    let got: Vec<u32> = d.read(out, 64 * 4).unwrap();
    let ballot: u32 = (0..32).filter(|l| l % 3 == 0).fold(0, |m, l| m | (1 << l));
    for t in 0..64u32 {
        let (lane, warp) = (t % 32, t / 32);
        let row = &got[4 * t as usize..4 * t as usize + 4];
        assert_eq!(row[0], ballot, "ballot, thread {t}");
        assert_eq!(row[1], (warp * 32 + 5) * 10, "shfl, thread {t}");
        let down = if lane == 31 { t } else { t + 1 };
        assert_eq!(row[2], down + 1000, "shfl_down + any, thread {t}");
        assert_eq!(
            row[3],
            (t ^ 16) + 0,
            "shfl_xor + all (lane 31 is false), thread {t}"
        );
    }
}

#[test]
fn barrier_reductions() {
    let d = Device::new(Schedule::Shuffle(11));
    let mut out = d.alloc(128 * 4);
    ok(d.launch("k_count", [1, 1, 1], [128, 1, 1], &mut [arg(&mut out)]));
    let got: Vec<i32> = d.read(out, 128).unwrap();
    assert!(got.iter().all(|&v| v == 32 + 1000), "{:?}", &got[..4]);
}

#[test]
fn three_dimensional_grids_and_blocks() {
    let d = Device::new(Schedule::Shuffle(5));
    let (grid, block) = ([2, 3, 2], [4, 2, 3]);
    let (nb, nt) = (12usize, 24usize);
    let mut out = d.alloc(nb * nt * 4);
    ok(d.launch("k_shape", grid, block, &mut [arg(&mut out)]));
    let got: Vec<i32> = d.read(out, nb * nt).unwrap();
    let want: Vec<i32> = (0..nb)
        .flat_map(|b| (0..nt).map(move |t| (1000 * b + t) as i32))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn parameters_of_several_types() {
    let d = Device::new(Schedule::Forward);
    let (mut a, mut b) = (7i32, 2.5f64);
    let mut out = d.alloc(8);
    ok(d.launch(
        "k_params",
        [1, 1, 1],
        [32, 1, 1],
        &mut [arg(&mut a), arg(&mut b), arg(&mut out)],
    ));
    assert_eq!(d.read::<i64>(out, 1).unwrap(), vec![32]);
}

#[test]
fn atomics_from_every_thread() {
    let d = Device::new(Schedule::Reverse);
    let (mut sum, mut count) = (d.alloc(8), d.alloc(4));
    ok(d.launch(
        "k_atomic",
        [5, 1, 1],
        [256, 1, 1],
        &mut [arg(&mut sum), arg(&mut count)],
    ));
    assert_eq!(d.read::<f64>(sum, 1).unwrap(), vec![640.0]);
    assert_eq!(d.read::<i32>(count, 1).unwrap(), vec![1280]);
    let stats = brisk_cuda_emu::api::stats();
    let k = &stats.kernels["k_atomic"];
    assert!(
        k.atomics >= 2 * 1280 && k.blocks_per_launch.get(&5).is_some(),
        "{k:?}"
    );
}

#[test]
fn an_order_dependent_write_differs_between_schedules() {
    let mut last = Vec::new();
    for s in [Schedule::Forward, Schedule::Reverse] {
        let d = Device::new(s);
        let mut out = d.alloc(4);
        ok(d.launch("k_last_writer", [2, 1, 1], [64, 1, 1], &mut [arg(&mut out)]));
        last.push(d.read::<i32>(out, 1).unwrap()[0]);
    }
    assert_eq!(last, vec![127, 0]);
}

/// Runs `kernel` (one parameter: a zeroed 64-int buffer, optionally an int),
/// expects the launch to succeed and the next synchronisation to fail with
/// `code`; returns the error text. Later calls keep failing (sticky).
fn failing(kernel: &str, block: u32, with_n: bool, code: CUresult) -> String {
    let d = Device::new(Schedule::Forward);
    let mut buf = d.alloc(64 * 4);
    let mut n = 64i32;
    let mut params = vec![arg(&mut buf)];
    if with_n {
        params.push(arg(&mut n));
    }
    ok(d.launch(kernel, [2, 1, 1], [block, 1, 1], &mut params));
    assert_eq!(
        cuCtxSynchronize(),
        code,
        "{kernel}: {}",
        describe(cuCtxSynchronize())
    );
    assert_eq!(
        d.read::<i32>(buf, 1).unwrap_err(),
        code,
        "{kernel}: the error is sticky"
    );
    assert_eq!(
        d.launch(
            "k_params",
            [1, 1, 1],
            [1, 1, 1],
            &mut [std::ptr::null_mut(); 3]
        ),
        code
    );
    describe(code)
}

#[test]
fn a_divergent_collective_fails_the_launch() {
    let text = failing("k_divergent", 32, false, CUresult::CUDA_ERROR_LAUNCH_FAILED);
    assert!(
        text.contains("kernel k_divergent, block (0, 0, 0)") && text.contains("divergent"),
        "{text}"
    );
}

#[test]
fn an_exited_lane_at_a_collective_fails_the_launch() {
    let text = failing(
        "k_exited_lane",
        32,
        false,
        CUresult::CUDA_ERROR_LAUNCH_FAILED,
    );
    assert!(text.contains("lane 3") && text.contains("exited"), "{text}");
}

#[test]
fn an_access_past_an_allocation_is_an_illegal_address() {
    let text = failing(
        "k_out_of_bounds",
        32,
        true,
        CUresult::CUDA_ERROR_ILLEGAL_ADDRESS,
    );
    assert!(
        text.contains("kernel k_out_of_bounds, block (1, 0, 0), thread (7, 0, 0)"),
        "{text}"
    );
    assert!(
        text.contains("16 bytes past the end of allocation"),
        "{text}"
    );
}

#[test]
fn integer_division_by_zero_fails_the_launch() {
    let text = failing("k_divide", 1, false, CUresult::CUDA_ERROR_LAUNCH_FAILED);
    assert!(text.contains("arithmetic fault"), "{text}");
}

#[test]
fn a_device_assertion_fails_the_launch() {
    let text = failing("k_assert", 4, false, CUresult::CUDA_ERROR_ASSERT);
    assert!(text.contains("assertion failed: out[0] == 12345"), "{text}");
}

#[test]
fn a_stack_overflow_is_caught() {
    let text = failing(
        "k_stack_overflow",
        1,
        false,
        CUresult::CUDA_ERROR_ILLEGAL_ADDRESS,
    );
    assert!(
        text.contains("thread (0, 0, 0)") && text.contains("stack overflow"),
        "{text}"
    );
}

#[test]
fn copies_are_range_checked() {
    let d = Device::new(Schedule::Forward);
    let p = d.alloc(100);
    let mut host = vec![0u8; 200];
    assert_eq!(
        cuMemcpyDtoH_v2(host.as_mut_ptr().cast(), p, 101),
        CUresult::CUDA_ERROR_INVALID_VALUE
    );
    assert_eq!(
        cuMemcpyHtoD_v2(p + 96, host.as_ptr().cast(), 8),
        CUresult::CUDA_ERROR_INVALID_VALUE
    );
    ok(cuMemcpyHtoD_v2(p + 92, host.as_ptr().cast(), 8));
    assert_eq!(
        cuMemsetD8_v2(p + 100, 0, 1),
        CUresult::CUDA_ERROR_INVALID_VALUE
    );
    ok(cuMemFree_v2(p));
    assert_eq!(
        cuMemcpyDtoH_v2(host.as_mut_ptr().cast(), p, 1),
        CUresult::CUDA_ERROR_INVALID_VALUE
    );
    // A range error is not sticky.
    ok(cuCtxSynchronize());
}

#[test]
fn a_module_without_source_is_refused() {
    let d = Device::new(Schedule::Forward);
    let mut m: CUmodule = std::ptr::null_mut();
    let ptx = CString::new(".version 9.0\n.visible .entry k(\n)\n{\n}\n").unwrap();
    let r = cuModuleLoadData(&mut m, ptx.as_ptr().cast());
    assert_eq!(r, CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU);
    assert!(
        describe(r).contains("BRISK_CUDA_EMULATION=1"),
        "{}",
        describe(r)
    );
    drop(d);
}

/// Cost of an emulated thread that does (almost) nothing: `cargo test --release
/// -p brisk-cuda-emu --test driver -- --ignored --nocapture thread_cost`.
#[test]
#[ignore = "a measurement, not a check"]
fn thread_cost() {
    let d = Device::new(Schedule::Forward);
    let mut out = d.alloc(8);
    let start = std::time::Instant::now();
    let launches = 200;
    for _ in 0..launches {
        ok(d.launch("k_noop", [256, 1, 1], [256, 1, 1], &mut [arg(&mut out)]));
    }
    let per = start.elapsed().as_secs_f64() / (launches as f64 * 65536.0);
    eprintln!("{:.1} ns per emulated thread", per * 1e9);
}

#[test]
fn captured_graphs_replay_their_launches() {
    use cudarc::driver::sys::{CUgraph, CUgraphExec, CUstream};
    let d = Device::new(Schedule::Forward);
    let (mut sum, mut count) = (d.alloc(8), d.alloc(4));
    let mut stream: CUstream = std::ptr::null_mut();
    ok(cuStreamCreate(&mut stream, 0));
    // the legacy default stream cannot be captured
    assert_eq!(
        cuStreamBeginCapture_v2(std::ptr::null_mut(), 0),
        CUresult::CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
    );
    ok(cuStreamBeginCapture_v2(stream, 0));
    let f = d.function("k_atomic");
    for _ in 0..2 {
        let mut params = [arg(&mut sum), arg(&mut count)];
        ok(cuLaunchKernel(
            f,
            2,
            1,
            1,
            64,
            1,
            1,
            0,
            stream,
            params.as_mut_ptr(),
            std::ptr::null_mut(),
        ));
    }
    // recorded, not run
    assert_eq!(d.read::<i32>(count, 1).unwrap(), vec![0]);
    let mut graph: CUgraph = std::ptr::null_mut();
    ok(cuStreamEndCapture(stream, &mut graph));
    let mut exec: CUgraphExec = std::ptr::null_mut();
    ok(cuGraphInstantiateWithFlags(&mut exec, graph, 0));
    for _ in 0..3 {
        ok(cuGraphLaunch(exec, stream));
    }
    ok(cuStreamSynchronize(stream));
    assert_eq!(d.read::<i32>(count, 1).unwrap(), vec![3 * 2 * 128]);
    assert_eq!(
        d.read::<f64>(sum, 1).unwrap(),
        vec![3.0 * 2.0 * 128.0 * 0.5]
    );
    // anything but a launch invalidates a capture
    ok(cuStreamBeginCapture_v2(stream, 0));
    assert_eq!(
        cuStreamSynchronize(stream),
        CUresult::CUDA_ERROR_STREAM_CAPTURE_INVALIDATED
    );
    ok(cuGraphExecDestroy(exec));
    ok(cuGraphDestroy(graph));
    ok(cuStreamDestroy_v2(stream));
    assert!(brisk_cuda_emu::api::stats().graph_launches >= 3);
}
