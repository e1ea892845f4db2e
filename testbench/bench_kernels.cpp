// bench_kernels.cpp -- the C++ speed anchor: runs kernels/conv1x1.cpp and kernels/dw_conv3x3.cpp
// (default configuration, real ap_types headers) on pseudo-random data and prints the wall
// time per call (the mean over N calls; with R rounds, the smallest of the R means, which is
// robust against a busy machine):
//   conv1x1_us=<float>
//   dw_conv3x3_us=<float>
// (plus a checksum line so the work cannot be optimized away).
// Build: g++ -O2 -std=c++11 -isystem <ap_types> -Ikernels testbench/bench_kernels.cpp
//            kernels/conv1x1.cpp kernels/dw_conv3x3.cpp -o bench_kernels
// Run:   bench_kernels [N [R]]   (N calls per round, default 100; R rounds, default 3; one
//                                 warm-up call of each kernel first)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "conv1x1.h"
#include "dw_conv3x3.h"

static in_t bottom[16][34][66];
static out_t top[16][34][66];
static weight_t w1[16][16];
static weight_t w3[16][3][3];
static bias_t bias[16];
#if HLS_SIM_PER_CHANNEL_FACTOR
static factor_t factor[16];
#define HLS_SIM_BENCH_FACTOR factor
#else
static factor_t factor[1];
#define HLS_SIM_BENCH_FACTOR factor[0]
#endif

static uint64_t g_state = 12345;
static uint64_t next_u64() {  // splitmix64
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t checksum() {
    uint64_t s = 0;
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 34; h++)
            for (int w = 0; w < 66; w++) s = s * 31 + top[c][h][w].to_uint64();
    return s;
}

typedef std::chrono::steady_clock bench_clock;

template <class F>
static double best_mean_us(F call, int n, int rounds) {
    call();  // warm-up
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        bench_clock::time_point t0 = bench_clock::now();
        for (int i = 0; i < n; i++) call();
        bench_clock::time_point t1 = bench_clock::now();
        const double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / n;
        if (r == 0 || us < best) best = us;
    }
    return best;
}

static void call_conv1x1() { conv1x1(bottom, top, w1, bias, HLS_SIM_BENCH_FACTOR); }
static void call_dw_conv3x3() { DW_CONV_3x3(bottom, top, w3, bias, HLS_SIM_BENCH_FACTOR); }

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 100;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    if (n <= 0 || rounds <= 0 || argc > 3) {
        std::fprintf(stderr, "usage: %s [N>0 [R>0]]\n", argv[0]);
        return 2;
    }
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 34; h++)
            for (int w = 0; w < 66; w++) bottom[c][h][w] = int(next_u64() % 256);
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16; j++) w1[i][j] = int(next_u64() % 256) - 128;
        for (int j = 0; j < 9; j++) w3[i][j / 3][j % 3] = int(next_u64() % 256) - 128;
        bias[i] = int(next_u64() % 2001) - 1000;
    }
    // factors ~ 2^-8 in magnitude keep a good share of outputs strictly between 0 and 255
    for (auto& f : factor) f = (double(int(next_u64() % 2001) - 1000) / 1000.0) / 256.0;

    const double us1 = best_mean_us(call_conv1x1, n, rounds);
    const uint64_t s1 = checksum();
    const double us2 = best_mean_us(call_dw_conv3x3, n, rounds);
    const uint64_t s2 = checksum();

    std::printf("conv1x1_us=%.3f\n", us1);
    std::printf("dw_conv3x3_us=%.3f\n", us2);
    std::printf("calls=%d rounds=%d checksum=%016llx%016llx\n", n, rounds, (unsigned long long)s1,
                (unsigned long long)s2);
    return 0;
}
