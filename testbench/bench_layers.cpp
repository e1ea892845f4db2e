// bench_layers.cpp -- the C++ speed anchor of the templated kinds (kernels/conv2d.h,
// kernels/conv_transpose.h, kernels/upsample.h), like bench_kernels.cpp for the seed kernels.
// The types are the global configuration's (hls_sim_global_config: the seed's defaults, or
// CONFIG=cfg.h); the layers:
//
//   conv2d          16 -> 16, K=3, S=1, P=1, 32x64 -> 32x64, group accumulation, relu
//   conv_transpose  16 -> 16, K=3, S=2, P=1, OUT_PAD=1, G=1, 16x32 -> 32x64, group, relu
//   upsample        nearest x2, 16x16x32 -> 16x32x64
//
// on data from a fixed linear congruential generator. Prints the wall time per call (the mean
// over N calls; with R rounds, the smallest of the R means, which is robust against a busy
// machine):
//   conv2d_us=<float>
//   conv_transpose_us=<float>
//   upsample_us=<float>
// and a checksum line of the three outputs (reproducible: the same data every run).
// Build: make -C testbench bench-layers, or
//   g++ -std=c++14 -O2 -w -isystem <ap_types> -I kernels -I testbench
//       testbench/bench_layers.cpp -o bench_layers
// Run:   bench_layers [N [R]]   (N calls per round, default 20; R rounds, default 3; one
//                                warm-up call of each kernel first)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "hls_config.h"
#include "conv2d.h"
#include "conv_transpose.h"
#include "upsample.h"

struct bench_conv2d : hls_sim_global_config {
    static const int C_IN = 16, C_OUT = 16, H = 32, W = 64;
    static const int K = 3, S = 1, P = 1, D = 1, G = 1, OUT_PAD = 0;
    static const int H_OUT = 32, W_OUT = 64;
    static const int ACCUMULATE = HLS_SIM_ACC_GROUP;
};

struct bench_conv_transpose : hls_sim_global_config {
    static const int C_IN = 16, C_OUT = 16, H = 16, W = 32;
    static const int K = 3, S = 2, P = 1, D = 1, G = 1, OUT_PAD = 1;
    static const int H_OUT = 32, W_OUT = 64;  // (H-1)S - 2P + D(K-1) + OUT_PAD + 1
    static const int ACCUMULATE = HLS_SIM_ACC_GROUP;
};

struct bench_upsample {
    typedef ::in_t in_t;
    typedef ::in_t out_t;
    static const int C_IN = 16, H = 16, W = 32, F = 2, HALO = 0, MODE = HLS_SIM_UP_NEAREST;
    static const int H_OUT = 32, W_OUT = 64;
};

static in_t conv_in[16][32][64];
static out_t conv_out[16][32][64];
static weight_t conv_w[16][16][3][3];
static in_t deconv_in[16][16][32];
static out_t deconv_out[16][32][64];
static weight_t deconv_w[16][16][3][3];
static bias_t bias[16];
static factor_t factor[hls_sim_global_config::N_FACTOR];
static in_t up_in[16][16][32];
static in_t up_out[16][32][64];

// A fixed LCG (Numerical Recipes' constants); the high bits are the random ones.
static uint32_t g_lcg = 12345u;
static uint32_t next_u32() {
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return g_lcg;
}
static int rnd(int n) { return int((next_u32() >> 8) % uint32_t(n)); }  // in [0, n)

template <class T>
static uint64_t checksum(const T* a, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + a[i].to_uint64();
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

static void call_conv2d() { conv2d<bench_conv2d>(conv_in, conv_out, conv_w, bias, factor); }
static void call_conv_transpose() {
    conv_transpose<bench_conv_transpose>(deconv_in, deconv_out, deconv_w, bias, factor);
}
static void call_upsample() { upsample<bench_upsample>(up_in, up_out); }

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 20;
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
    if (n <= 0 || rounds <= 0 || argc > 3) {
        std::fprintf(stderr, "usage: %s [N>0 [R>0]]\n", argv[0]);
        return 2;
    }
    for (int c = 0; c < 16; c++) {
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 64; w++) conv_in[c][h][w] = rnd(256);
        for (int h = 0; h < 16; h++)
            for (int w = 0; w < 32; w++) {
                deconv_in[c][h][w] = rnd(256);
                up_in[c][h][w] = rnd(256);
            }
        for (int ci = 0; ci < 16; ci++)
            for (int k = 0; k < 9; k++) {
                conv_w[c][ci][k / 3][k % 3] = rnd(256) - 128;
                deconv_w[c][ci][k / 3][k % 3] = rnd(256) - 128;
            }
        bias[c] = rnd(2001) - 1000;
    }
    // factors ~ 2^-9 in magnitude keep a good share of outputs strictly between 0 and max
    for (auto& f : factor) f = (double(rnd(2001) - 1000) / 1000.0) / 512.0;

    const double us1 = best_mean_us(call_conv2d, n, rounds);
    const double us2 = best_mean_us(call_conv_transpose, n, rounds);
    const double us3 = best_mean_us(call_upsample, n, rounds);
    const uint64_t s1 = checksum(&conv_out[0][0][0], 16 * 32 * 64);
    const uint64_t s2 = checksum(&deconv_out[0][0][0], 16 * 32 * 64);
    const uint64_t s3 = checksum(&up_out[0][0][0], 16 * 32 * 64);

    std::printf("conv2d_us=%.3f\n", us1);
    std::printf("conv_transpose_us=%.3f\n", us2);
    std::printf("upsample_us=%.3f\n", us3);
    std::printf("calls=%d rounds=%d checksum=%016llx%016llx%016llx\n", n, rounds,
                (unsigned long long)s1, (unsigned long long)s2, (unsigned long long)s3);
    return 0;
}
