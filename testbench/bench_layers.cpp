// bench_layers.cpp -- the C++ speed anchor of the templated kinds (kernels/conv2d.h,
// kernels/conv_transpose.h, kernels/upsample.h, kernels/linear.h, kernels/pool.h,
// kernels/merge.h), like bench_kernels.cpp for the seed kernels. The types are the global
// configuration's (hls_sim_global_config: the seed's defaults, or CONFIG=cfg.h; avg_pool reads
// its in_t, acc_t, factor_t, qd_t, out_t), except the merges', which have their own (those of
// weights/add.yaml and weights/concat.yaml, below); the layers:
//
//   conv2d          16 -> 16, K=3, S=1, P=1, 32x64 -> 32x64, group accumulation, relu
//   conv_transpose  16 -> 16, K=3, S=2, P=1, OUT_PAD=1, G=1, 16x32 -> 32x64, group, relu
//   upsample        nearest x2, 16x16x32 -> 16x32x64
//   linear          1024 -> 256, group accumulation, relu (one input vector per call)
//   max_pool        K=2, S=2, P=0, relu before, 16x32x64 -> 16x16x32
//   avg_pool_incl   K=3, S=2, P=1, COUNT_INCLUDE_PAD=1, 16x32x64 -> 16x16x32
//   avg_pool_excl   K=3, S=2, P=1, COUNT_INCLUDE_PAD=0, 16x32x64 -> 16x16x32
//   add             16x32x64 + 16x32x64, RELU=1: ap_fixed<8,4> + ap_fixed<10,3>
//                   -> ap_fixed<9,5,AP_RND,AP_SAT>
//   concat          16x32x64 ++ 8x32x64 -> 24x32x64: ap_fixed<8,4>, ap_fixed<10,3>
//                   -> ap_fixed<8,4,AP_RND_CONV,AP_SAT>
//
// (the three pools read the same input map; add and concat the same first map, each input
// uniform over its type's raw range) on data from a fixed linear congruential
// generator. Prints the wall time per call (the mean over the calls of a round; with R rounds,
// the smallest of the R means, which is robust against a busy machine):
//   conv2d_us=<float>  ...  concat_us=<float>
// a checksum per layer, <layer>_checksum=<16 hex digits> (the merges': of the outputs' raw
// integers, sign-extended), and a checksum line of the first three outputs (reproducible: the
// same data every run).
// Build: make -C testbench bench-layers, or
//   g++ -std=c++14 -O2 -w -isystem <ap_types> -I kernels -I testbench
//       testbench/bench_layers.cpp -o bench_layers
// Run:   bench_layers [N [R]]   (N calls per round, default 20, times the layer's REPEAT
//                                below for the smaller layers; R rounds, default 3; one
//                                warm-up call of each kernel first)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "hls_config.h"
#include "conv2d.h"
#include "conv_transpose.h"
#include "upsample.h"
#include "linear.h"
#include "pool.h"
#include "merge.h"

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

struct bench_linear : hls_sim_global_config {
    static const int C_IN = 1024, C_OUT = 256;
    static const int N_FACTOR = HLS_SIM_PER_CHANNEL_FACTOR ? 256 : 1;  // linear: 1 or C_OUT
    static const int ACCUMULATE = HLS_SIM_ACC_GROUP;
};

// The pools: in_t, out_t (max_pool) and in_t, acc_t, factor_t, qd_t, out_t (avg_pool) are the
// global configuration's.
struct bench_pool_shape : hls_sim_global_config {
    static const int C_IN = 16, C_OUT = 16, H = 32, W = 64;
};

struct bench_max_pool : bench_pool_shape {
    static const int K = 2, S = 2, P = 0, H_OUT = 16, W_OUT = 32;  // (H + 2P - K) / S + 1
    static const int RELU = HLS_SIM_POOL_RELU_BEFORE;
};

struct bench_avg_pool_incl : bench_pool_shape {
    static const int K = 3, S = 2, P = 1, H_OUT = 16, W_OUT = 32;
    static const int COUNT_INCLUDE_PAD = 1;
};

struct bench_avg_pool_excl : bench_pool_shape {
    static const int K = 3, S = 2, P = 1, H_OUT = 16, W_OUT = 32;
    static const int COUNT_INCLUDE_PAD = 0;
};

// The merges: their own types (weights/add.yaml, weights/concat.yaml), not the global ones.
typedef ap_fixed<8, 4> merge_in_t;
typedef ap_fixed<10, 3> merge_in2_t;

struct bench_add {
    typedef merge_in_t in_t;
    typedef merge_in2_t in2_t;
    typedef ap_fixed<9, 5, AP_RND, AP_SAT> out_t;
    static const int C_IN = 16, C_OUT = 16, H = 32, W = 64, H_OUT = 32, W_OUT = 64;
    static const int C_IN2 = 16, RELU = 1;
};

struct bench_concat {
    typedef merge_in_t in_t;
    typedef merge_in2_t in2_t;
    typedef ap_fixed<8, 4, AP_RND_CONV, AP_SAT> out_t;
    static const int C_IN = 16, C_OUT = 24, H = 32, W = 64, H_OUT = 32, W_OUT = 64;
    static const int C_IN2 = 8;
};

// Calls per round: N times this (the smaller layers take more calls, so that a round lasts
// milliseconds, not microseconds).
static const int REPEAT_LINEAR = 4, REPEAT_POOL = 16, REPEAT_MERGE = 16;

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
static in_t lin_in[1024];
static out_t lin_out[256];
static weight_t lin_w[256][1024];
static bias_t lin_bias[256];
static factor_t lin_factor[bench_linear::N_FACTOR];
static in_t pool_in[16][32][64];
static out_t max_out[16][16][32];
static out_t avg_incl_out[16][16][32];
static out_t avg_excl_out[16][16][32];
static merge_in_t merge_in[16][32][64];  // add's and concat's first map
static merge_in2_t add_in2[16][32][64];
static merge_in2_t cat_in2[8][32][64];
static bench_add::out_t add_out[16][32][64];
static bench_concat::out_t cat_out[24][32][64];

// A fixed LCG (Numerical Recipes' constants); the high bits are the random ones.
static uint32_t g_lcg = 12345u;
static uint32_t next_u32() {
    g_lcg = g_lcg * 1664525u + 1013904223u;
    return g_lcg;
}
static int rnd(int n) { return int((next_u32() >> 8) % uint32_t(n)); }  // in [0, n)
// The same from bits 16..31: bits 8..15 of this LCG repeat every 2^16 draws, fewer than
// linear's 262144 weights take (rows 64 apart would be equal); bits 16..23 every 2^24.
static int rnd_hi(int n) { return int((next_u32() >> 16) % uint32_t(n)); }

template <class T>
static uint64_t checksum(const T* a, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s = s * 31 + a[i].to_uint64();
    return s;
}

// The same over the raw integers of signed ap_fixed values (the stored bits, sign-extended to
// 64; to_uint64() would give the integer part).
template <int W, int I, ap_q_mode Q, ap_o_mode O, int N>
static uint64_t checksum(const ap_fixed<W, I, Q, O, N>* a, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = a[i].range().to_uint64();
        if (W < 64 && ((r >> (W - 1)) & 1)) r -= uint64_t(1) << W;
        s = s * 31 + r;
    }
    return s;
}

// Sets the stored bits of an ap_fixed to a raw integer (exact: its low W bits).
template <class T>
static void set_raw(T& v, int raw) {
    v.range() = raw;
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
static void call_linear() { linear<bench_linear>(lin_in, lin_out, lin_w, lin_bias, lin_factor); }
static void call_max_pool() { max_pool<bench_max_pool>(pool_in, max_out); }
static void call_avg_pool_incl() { avg_pool<bench_avg_pool_incl>(pool_in, avg_incl_out); }
static void call_avg_pool_excl() { avg_pool<bench_avg_pool_excl>(pool_in, avg_excl_out); }
static void call_add() { add<bench_add>(merge_in, add_in2, add_out); }
static void call_concat() { concat<bench_concat>(merge_in, cat_in2, cat_out); }

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
    // drawn after the first three layers' data (so theirs stays what it was), with rnd_hi
    for (int ci = 0; ci < 1024; ci++) lin_in[ci] = rnd_hi(256);
    for (int co = 0; co < 256; co++)
        for (int ci = 0; ci < 1024; ci++) lin_w[co][ci] = rnd_hi(256) - 128;
    // 1024 products an output: factors ~ 2^-10 and biases in [-100, 100] keep a good share
    // of outputs strictly between 0 and max
    for (int co = 0; co < 256; co++) lin_bias[co] = rnd_hi(201) - 100;
    for (auto& f : lin_factor) f = (double(rnd_hi(2001) - 1000) / 1000.0) / 1024.0;
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 64; w++) pool_in[c][h][w] = rnd_hi(256);
    // the merges' maps, uniform over each type's raw range: ap_fixed<8,4> raws in
    // [-128, 127], ap_fixed<10,3> raws in [-512, 511]
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 64; w++) set_raw(merge_in[c][h][w], rnd_hi(256) - 128);
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 64; w++) set_raw(add_in2[c][h][w], rnd_hi(1024) - 512);
    for (int c = 0; c < 8; c++)
        for (int h = 0; h < 32; h++)
            for (int w = 0; w < 64; w++) set_raw(cat_in2[c][h][w], rnd_hi(1024) - 512);

    const double us1 = best_mean_us(call_conv2d, n, rounds);
    const double us2 = best_mean_us(call_conv_transpose, n, rounds);
    const double us3 = best_mean_us(call_upsample, n, rounds);
    const double us4 = best_mean_us(call_linear, n * REPEAT_LINEAR, rounds);
    const double us5 = best_mean_us(call_max_pool, n * REPEAT_POOL, rounds);
    const double us6 = best_mean_us(call_avg_pool_incl, n * REPEAT_POOL, rounds);
    const double us7 = best_mean_us(call_avg_pool_excl, n * REPEAT_POOL, rounds);
    const double us8 = best_mean_us(call_add, n * REPEAT_MERGE, rounds);
    const double us9 = best_mean_us(call_concat, n * REPEAT_MERGE, rounds);
    const uint64_t s1 = checksum(&conv_out[0][0][0], 16 * 32 * 64);
    const uint64_t s2 = checksum(&deconv_out[0][0][0], 16 * 32 * 64);
    const uint64_t s3 = checksum(&up_out[0][0][0], 16 * 32 * 64);
    const uint64_t s4 = checksum(&lin_out[0], 256);
    const uint64_t s5 = checksum(&max_out[0][0][0], 16 * 16 * 32);
    const uint64_t s6 = checksum(&avg_incl_out[0][0][0], 16 * 16 * 32);
    const uint64_t s7 = checksum(&avg_excl_out[0][0][0], 16 * 16 * 32);
    const uint64_t s8 = checksum(&add_out[0][0][0], 16 * 32 * 64);
    const uint64_t s9 = checksum(&cat_out[0][0][0], 24 * 32 * 64);

    std::printf("conv2d_us=%.3f\n", us1);
    std::printf("conv_transpose_us=%.3f\n", us2);
    std::printf("upsample_us=%.3f\n", us3);
    std::printf("linear_us=%.3f linear_calls=%d\n", us4, n * REPEAT_LINEAR);
    std::printf("max_pool_us=%.3f max_pool_calls=%d\n", us5, n * REPEAT_POOL);
    std::printf("avg_pool_incl_us=%.3f avg_pool_incl_calls=%d\n", us6, n * REPEAT_POOL);
    std::printf("avg_pool_excl_us=%.3f avg_pool_excl_calls=%d\n", us7, n * REPEAT_POOL);
    std::printf("add_us=%.3f add_calls=%d\n", us8, n * REPEAT_MERGE);
    std::printf("concat_us=%.3f concat_calls=%d\n", us9, n * REPEAT_MERGE);
    const uint64_t sums[9] = {s1, s2, s3, s4, s5, s6, s7, s8, s9};
    const char* names[9] = {"conv2d", "conv_transpose", "upsample", "linear", "max_pool",
                            "avg_pool_incl", "avg_pool_excl", "add", "concat"};
    for (int i = 0; i < 9; i++)
        std::printf("%s_checksum=%016llx\n", names[i], (unsigned long long)sums[i]);
    std::printf("calls=%d rounds=%d checksum=%016llx%016llx%016llx\n", n, rounds,
                (unsigned long long)s1, (unsigned long long)s2, (unsigned long long)s3);
    return 0;
}
