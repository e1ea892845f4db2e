// layers_selftest.cpp -- self-checks of the templated kernel kinds (kernels/conv2d.h,
// kernels/conv_transpose.h, kernels/upsample.h, and the seed templates conv1x1_layer and
// dw_conv3x3_layer), all instantiated with hand-written traits structs in ONE translation unit
// that has no global typedef at all (HLS_SIM_NO_GLOBAL_CONFIG: hls_config.h is never
// included), which also proves the templates need nothing but their CFG:
//
//   (a) conv2d K=1, 16 -> 16 on the seed buffer's top-left 32x64 equals conv1x1_layer on the
//       same data (seed types, relu clipped; and the non-default types of
//       testbench/example_config.h with per-channel factors and a wrapping 18-bit accumulator);
//   (b) conv2d with G = 16, K = 3, P = 1 equals dw_conv3x3_layer (seed types; the seed buffer's
//       halo zeroed, which is conv2d's zero padding);
//   (c) conv2d and conv_transpose equal a brute force in plain long long arithmetic (the exact
//       sum of products from the raw integers, plus the bias) for an accumulator too wide to
//       overflow, factor 1.0 and no activation, over many shapes: partial and several input
//       blocks, groups, depthwise, strides 1..4, dilations 1..4, kernels 1..7, odd sizes. The
//       conv_transpose brute force is PyTorch's scatter definition
//         out[co][i*S - P + kh*D][j*S - P + kw*D] += w[ci][co_local][kh][kw] * x[ci][i][j]
//       so it checks the zero insertion, padding, flip and channel swap of the kernel;
//   (d) the three accumulation modes (group, exact, tap) agree, bit for bit, when the
//       accumulator is wide (every shape of (c) is run in all three), and differ with a narrow
//       saturating acc_t = ap_fixed<10,10,AP_TRN,AP_SAT> (printed only: no value is required);
//   (e) upsample against its definition (nearest and zeros, F = 2..4, halo 0 and 1).
//
// Prints one line per check and PASS or FAIL; exit status 0 only on PASS.
// Build: make -C testbench layers-check, or
//   g++ -std=c++14 -O2 -w -isystem <ap_types> -I kernels -I testbench
//       testbench/layers_selftest.cpp -o layers_selftest
#define HLS_SIM_NO_GLOBAL_CONFIG
#include "conv1x1.h"
#include "dw_conv3x3.h"
#include "conv2d.h"
#include "conv_transpose.h"
#include "upsample.h"
#include "tb_io.h"

#include <cstdint>
#include <cstdio>

#ifdef HLS_SIM_HLS_CONFIG_H
#error "layers_selftest must compile without hls_config.h (the templates need only their CFG)"
#endif

// ---- deterministic PRNG (splitmix64) -----------------------------------------------------
static uint64_t g_state = 0x5EEDC0DEull;
static uint64_t next_u64() {
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t rnd(int64_t lo, int64_t hi) {  // uniform in [lo, hi]
    return lo + int64_t(next_u64() % uint64_t(hi - lo + 1));
}

// n elements of any ap_* type (viewed flat), raw values uniform in [lo, hi]
template <class T>
static void fill(T* a, size_t n, int64_t lo, int64_t hi) {
    for (size_t i = 0; i < n; i++) tb::set_raw(a[i], rnd(lo, hi));
}
template <class T>
static void fill_const(T* a, size_t n, int64_t raw) {
    for (size_t i = 0; i < n; i++) tb::set_raw(a[i], raw);
}

static long g_failures = 0;
static void report(const char* what, long bad, long total) {
    std::printf("  %-58s %s (%ld outputs%s)\n", what, bad ? "FAIL" : "ok", total,
                bad ? ", mismatches below" : "");
    if (bad) g_failures++;
}

// ---- traits structs --------------------------------------------------------------------------
// The seed's types and switches (the defaults of kernels/hls_config.h).
struct seed_types {
    typedef ap_uint<8> in_t;
    typedef ap_uint<8> out_t;
    typedef ap_int<8> weight_t;
    typedef ap_int<16> bias_t;
    typedef ap_fixed<32, 1> factor_t;
    typedef ap_int<32> acc_t;
    typedef ap_fixed<16, 16, AP_RND, AP_SAT> qd_t;
    typedef ap_int<18> sum_t;
    static const int RELU_CLIP = 1;
    static const int N_FACTOR = 1;
    static const int ACTIVATION = HLS_SIM_ACT_RELU;
    static const int ACCUMULATE = HLS_SIM_ACC_GROUP;
};

// testbench/example_config.h's types: signed fixed-point output, a wrapping 18-bit accumulator,
// quant_dequant with fraction bits and convergent rounding, per-channel factors, no clip.
struct example_types {
    typedef ap_uint<8> in_t;
    typedef ap_fixed<8, 6, AP_TRN, AP_WRAP> out_t;
    typedef ap_int<8> weight_t;
    typedef ap_int<16> bias_t;
    typedef ap_fixed<24, 2> factor_t;
    typedef ap_int<18> acc_t;
    typedef ap_fixed<20, 16, AP_RND_CONV, AP_SAT> qd_t;
    typedef ap_fixed<22, 18> sum_t;
    static const int RELU_CLIP = 0;
    static const int N_FACTOR = 16;
    static const int ACTIVATION = HLS_SIM_ACT_RELU;
    static const int ACCUMULATE = HLS_SIM_ACC_GROUP;
};

// Wide enough that nothing overflows anywhere: the output is the exact sum plus the bias.
// Signed input, to exercise the signs of both operands.
template <int ACC>
struct wide_types {
    typedef ap_int<8> in_t;
    typedef ap_int<48> out_t;
    typedef ap_int<8> weight_t;
    typedef ap_int<16> bias_t;
    typedef ap_fixed<16, 4> factor_t;  // 1.0 is exact
    typedef ap_int<40> acc_t;
    typedef ap_int<48> qd_t;
    typedef ap_int<48> sum_t;
    typedef ap_int<48> wide_t;
    static const int RELU_CLIP = 0;
    static const int N_FACTOR = 1;
    static const int ACTIVATION = HLS_SIM_ACT_NONE;
    static const int ACCUMULATE = ACC;
};

// wide_types with a deliberately narrow saturating accumulator ([-512, 511], truncating).
template <int ACC>
struct narrow_types : wide_types<ACC> {
    typedef ap_fixed<10, 10, AP_TRN, AP_SAT> acc_t;
};

// A conv2d layer shape on a type set.
template <class T, int CI, int CO, int H_, int W_, int K_, int S_, int P_, int D_, int G_>
struct conv_shape : T {
    static const int C_IN = CI, C_OUT = CO, H = H_, W = W_;
    static const int K = K_, S = S_, P = P_, D = D_, G = G_, OUT_PAD = 0;
    static const int H_OUT = (H_ + 2 * P_ - D_ * (K_ - 1) - 1) / S_ + 1;
    static const int W_OUT = (W_ + 2 * P_ - D_ * (K_ - 1) - 1) / S_ + 1;
};

// A conv_transpose layer shape on a type set.
template <class T, int CI, int CO, int H_, int W_, int K_, int S_, int P_, int D_, int G_, int OP>
struct deconv_shape : T {
    static const int C_IN = CI, C_OUT = CO, H = H_, W = W_;
    static const int K = K_, S = S_, P = P_, D = D_, G = G_, OUT_PAD = OP;
    static const int H_OUT = (H_ - 1) * S_ - 2 * P_ + D_ * (K_ - 1) + OP + 1;
    static const int W_OUT = (W_ - 1) * S_ - 2 * P_ + D_ * (K_ - 1) + OP + 1;
};

// ---- (a), (b): conv2d against the seed templates -----------------------------------------------
static const int kC = 16, kH = 34, kW = 66;

// (a) conv2d K=1 on bottom[:, 0:32, 0:64] vs conv1x1_layer (writes top[:, 0:32, 0:64]).
template <class T>
static long check_against_conv1x1(const char* what, int trials) {
    typedef conv_shape<T, 16, 16, 32, 64, 1, 1, 0, 1, 1> C;
    static typename T::in_t bottom[kC][kH][kW];
    static typename T::out_t top[kC][kH][kW];
    static typename T::weight_t w1[16][16];
    static typename T::in_t x[16][32][64];
    static typename T::out_t out[16][32][64];
    static typename T::weight_t w[16][16][1][1];
    typename T::bias_t bias[16];
    typename T::factor_t factor[T::N_FACTOR];
    long bad = 0, total = 0;
    for (int t = 0; t < trials; t++) {
        fill(&bottom[0][0][0], sizeof(bottom) / sizeof(bottom[0][0][0]), 0, 255);
        fill(&w1[0][0], 256, t % 2 ? 100 : -128, 127);  // odd trials: large positive sums
        fill(bias, 16, -300, 300);
        fill(factor, T::N_FACTOR, -(int64_t(1) << (T::factor_t::width - 1)),
             (int64_t(1) << (T::factor_t::width - 1)) - 1);
        for (int c = 0; c < 16; c++) {
            for (int ci = 0; ci < 16; ci++) w[c][ci][0][0] = w1[c][ci];
            for (int h = 0; h < 32; h++)
                for (int ww = 0; ww < 64; ww++) x[c][h][ww] = bottom[c][h][ww];
        }
        conv1x1_layer<T>(bottom, top, w1, bias, factor);
        conv2d<C>(x, out, w, bias, factor);
        for (int c = 0; c < 16; c++)
            for (int h = 0; h < 32; h++)
                for (int ww = 0; ww < 64; ww++, total++)
                    if (tb::get_raw(top[c][h][ww]) != tb::get_raw(out[c][h][ww]) && bad++ < 3)
                        std::printf("    trial %d [%d][%d][%d]: conv1x1_layer %lld conv2d %lld\n",
                                    t, c, h, ww, (long long)tb::get_raw(top[c][h][ww]),
                                    (long long)tb::get_raw(out[c][h][ww]));
    }
    report(what, bad, total);
    return bad;
}

// (b) conv2d G=16 K=3 P=1 on bottom[:, 1:33, 1:65] (halo zero) vs dw_conv3x3_layer.
static long check_against_dw_conv3x3(int trials) {
    typedef seed_types T;
    typedef conv_shape<T, 16, 16, 32, 64, 3, 1, 1, 1, 16> C;
    static T::in_t bottom[kC][kH][kW];
    static T::out_t top[kC][kH][kW];
    static T::weight_t w3[16][3][3];
    static T::in_t x[16][32][64];
    static T::out_t out[16][32][64];
    static T::weight_t w[16][1][3][3];
    T::bias_t bias[16];
    T::factor_t factor[1];
    long bad = 0, total = 0;
    for (int t = 0; t < trials; t++) {
        fill(&bottom[0][0][0], sizeof(bottom) / sizeof(bottom[0][0][0]), 0, 255);
        for (int c = 0; c < kC; c++)
            for (int h = 0; h < kH; h++)
                for (int ww = 0; ww < kW; ww++)
                    if (h == 0 || h == kH - 1 || ww == 0 || ww == kW - 1) bottom[c][h][ww] = 0;
        fill(&w3[0][0][0], 144, -128, 127);
        fill(bias, 16, -300, 300);
        fill(factor, 1, -(int64_t(1) << 28), int64_t(1) << 28);
        for (int c = 0; c < 16; c++) {
            for (int i = 0; i < 9; i++) w[c][0][i / 3][i % 3] = w3[c][i / 3][i % 3];
            for (int h = 0; h < 32; h++)
                for (int ww = 0; ww < 64; ww++) x[c][h][ww] = bottom[c][h + 1][ww + 1];
        }
        dw_conv3x3_layer<T>(bottom, top, w3, bias, factor);
        conv2d<C>(x, out, w, bias, factor);
        for (int c = 0; c < 16; c++)
            for (int h = 0; h < 32; h++)
                for (int ww = 0; ww < 64; ww++, total++)
                    if (tb::get_raw(top[c][h + 1][ww + 1]) != tb::get_raw(out[c][h][ww]) &&
                        bad++ < 3)
                        std::printf("    trial %d [%d][%d][%d]: dw_conv3x3_layer %lld conv2d %lld\n",
                                    t, c, h, ww, (long long)tb::get_raw(top[c][h + 1][ww + 1]),
                                    (long long)tb::get_raw(out[c][h][ww]));
    }
    report("(b) conv2d G=16 K=3 P=1 == dw_conv3x3_layer, seed types", bad, total);
    return bad;
}

// ---- (c), (d): brute force in long long --------------------------------------------------------
// One layer's data, for a shape L (conv2d or conv_transpose); WSHAPE is the weight's leading
// two axes ([C_OUT][C_IN/G] for conv2d, [C_IN][C_OUT/G] for conv_transpose).
template <class L, int W0, int W1>
struct layer_data {
    typename L::in_t x[L::C_IN][L::H][L::W];
    typename L::weight_t w[W0][W1][L::K][L::K];
    typename L::bias_t bias[L::C_OUT];
    typename L::factor_t factor[1];
    long long want[L::C_OUT][L::H_OUT][L::W_OUT];

    void randomize() {
        fill(&x[0][0][0], sizeof(x) / sizeof(x[0][0][0]), -128, 127);
        fill(&w[0][0][0][0], sizeof(w) / sizeof(w[0][0][0][0]), -128, 127);
        fill(bias, L::C_OUT, -32768, 32767);
        factor[0] = 1.0;
    }
};

// conv2d's definition: out[co][oh][ow] = bias[co] + sum over the group's input channels and
// the taps inside the input of w[co][ci][kh][kw] * x[g*Cg + ci][oh*S - P + kh*D][ow*S - P + kw*D]
template <class L>
static void brute_conv2d(layer_data<L, L::C_OUT, L::C_IN / L::G>& d) {
    const int CG = L::C_IN / L::G, CO_G = L::C_OUT / L::G;
    for (int co = 0; co < L::C_OUT; co++)
        for (int oh = 0; oh < L::H_OUT; oh++)
            for (int ow = 0; ow < L::W_OUT; ow++) {
                long long s = d.bias[co].to_int64();
                for (int ci = 0; ci < CG; ci++)
                    for (int kh = 0; kh < L::K; kh++)
                        for (int kw = 0; kw < L::K; kw++) {
                            const int ih = oh * L::S - L::P + kh * L::D;
                            const int iw = ow * L::S - L::P + kw * L::D;
                            if (ih < 0 || ih >= L::H || iw < 0 || iw >= L::W) continue;
                            s += d.w[co][ci][kh][kw].to_int64() *
                                 d.x[(co / CO_G) * CG + ci][ih][iw].to_int64();
                        }
                d.want[co][oh][ow] = s;
            }
}

// PyTorch's ConvTranspose2d definition, as a scatter: every input pixel times every tap of its
// group's kernels, added at out[co][i*S - P + kh*D][j*S - P + kw*D] where that lies inside.
template <class L>
static void brute_conv_transpose(layer_data<L, L::C_IN, L::C_OUT / L::G>& d) {
    const int CG = L::C_IN / L::G, CO_G = L::C_OUT / L::G;
    for (int co = 0; co < L::C_OUT; co++)
        for (int oh = 0; oh < L::H_OUT; oh++)
            for (int ow = 0; ow < L::W_OUT; ow++) d.want[co][oh][ow] = d.bias[co].to_int64();
    for (int ci = 0; ci < L::C_IN; ci++) {
        const int g = ci / CG;
        for (int col = 0; col < CO_G; col++)
            for (int i = 0; i < L::H; i++)
                for (int j = 0; j < L::W; j++)
                    for (int kh = 0; kh < L::K; kh++)
                        for (int kw = 0; kw < L::K; kw++) {
                            const int oh = i * L::S - L::P + kh * L::D;
                            const int ow = j * L::S - L::P + kw * L::D;
                            if (oh < 0 || oh >= L::H_OUT || ow < 0 || ow >= L::W_OUT) continue;
                            d.want[g * CO_G + col][oh][ow] +=
                                d.w[ci][col][kh][kw].to_int64() * d.x[ci][i][j].to_int64();
                        }
    }
}

// Compare out with d.want; print up to 3 mismatches.
template <class L, class D>
static long compare_want(const char* what, const D& d,
                         const typename L::out_t (&out)[L::C_OUT][L::H_OUT][L::W_OUT]) {
    long bad = 0;
    for (int co = 0; co < L::C_OUT; co++)
        for (int oh = 0; oh < L::H_OUT; oh++)
            for (int ow = 0; ow < L::W_OUT; ow++)
                if (out[co][oh][ow].to_int64() != d.want[co][oh][ow] && bad++ < 3)
                    std::printf("    %s [%d][%d][%d]: kernel %lld brute force %lld\n", what, co, oh,
                                ow, (long long)out[co][oh][ow].to_int64(), d.want[co][oh][ow]);
    return bad;
}

// An output buffer filled with a value no check expects, to see that every element is written.
template <class L>
struct out_buf {
    typename L::out_t v[L::C_OUT][L::H_OUT][L::W_OUT];
    void poison() { fill_const(&v[0][0][0], sizeof(v) / sizeof(v[0][0][0]), 0x5A5A5A5A5); }
};

static const char* const kModeName[3] = {"group", "exact", "tap"};

// (c) + (d): one conv2d shape, the same data through all three accumulation modes (wide
// accumulator), each against the brute force.
template <int CI, int CO, int H, int W, int K, int S, int P, int D, int G>
static void check_conv2d(const char* what) {
    typedef conv_shape<wide_types<HLS_SIM_ACC_GROUP>, CI, CO, H, W, K, S, P, D, G> LG;
    typedef conv_shape<wide_types<HLS_SIM_ACC_EXACT>, CI, CO, H, W, K, S, P, D, G> LE;
    typedef conv_shape<wide_types<HLS_SIM_ACC_TAP>, CI, CO, H, W, K, S, P, D, G> LT;
    static layer_data<LG, CO, CI / G> d;
    static out_buf<LG> out[3];
    d.randomize();
    brute_conv2d<LG>(d);
    for (int m = 0; m < 3; m++) out[m].poison();
    conv2d<LG>(d.x, out[0].v, d.w, d.bias, d.factor);
    conv2d<LE>(d.x, out[1].v, d.w, d.bias, d.factor);
    conv2d<LT>(d.x, out[2].v, d.w, d.bias, d.factor);
    long bad = 0;
    for (int m = 0; m < 3; m++) bad += compare_want<LG>(kModeName[m], d, out[m].v);
    char line[160];
    std::snprintf(line, sizeof line, "(c) conv2d %s [%dx%dx%d -> %dx%dx%d]", what, CI, H, W, CO,
                  LG::H_OUT, LG::W_OUT);
    report(line, bad, 3L * CO * LG::H_OUT * LG::W_OUT);
}

// (c) + (d): one conv_transpose shape, likewise.
template <int CI, int CO, int H, int W, int K, int S, int P, int D, int G, int OP>
static void check_conv_transpose(const char* what) {
    typedef deconv_shape<wide_types<HLS_SIM_ACC_GROUP>, CI, CO, H, W, K, S, P, D, G, OP> LG;
    typedef deconv_shape<wide_types<HLS_SIM_ACC_EXACT>, CI, CO, H, W, K, S, P, D, G, OP> LE;
    typedef deconv_shape<wide_types<HLS_SIM_ACC_TAP>, CI, CO, H, W, K, S, P, D, G, OP> LT;
    static layer_data<LG, CI, CO / G> d;
    static out_buf<LG> out[3];
    d.randomize();
    brute_conv_transpose<LG>(d);
    for (int m = 0; m < 3; m++) out[m].poison();
    conv_transpose<LG>(d.x, out[0].v, d.w, d.bias, d.factor);
    conv_transpose<LE>(d.x, out[1].v, d.w, d.bias, d.factor);
    conv_transpose<LT>(d.x, out[2].v, d.w, d.bias, d.factor);
    long bad = 0;
    for (int m = 0; m < 3; m++) bad += compare_want<LG>(kModeName[m], d, out[m].v);
    char line[160];
    std::snprintf(line, sizeof line, "(c) conv_transpose %s [%dx%dx%d -> %dx%dx%d]", what, CI, H,
                  W, CO, LG::H_OUT, LG::W_OUT);
    report(line, bad, 3L * CO * LG::H_OUT * LG::W_OUT);
}

// (d) the narrow saturating accumulator: the three modes on the same data, printed.
static void show_narrow_modes() {
    typedef conv_shape<narrow_types<HLS_SIM_ACC_GROUP>, 32, 8, 8, 8, 3, 1, 1, 1, 1> LG;
    typedef conv_shape<narrow_types<HLS_SIM_ACC_EXACT>, 32, 8, 8, 8, 3, 1, 1, 1, 1> LE;
    typedef conv_shape<narrow_types<HLS_SIM_ACC_TAP>, 32, 8, 8, 8, 3, 1, 1, 1, 1> LT;
    static layer_data<LG, 8, 32> d;
    static out_buf<LG> out[3];
    d.randomize();
    // small operands, so that the running sums wander across the accumulator's [-512, 511]
    fill(&d.x[0][0][0], sizeof(d.x) / sizeof(d.x[0][0][0]), -6, 6);
    fill(&d.w[0][0][0][0], sizeof(d.w) / sizeof(d.w[0][0][0][0]), -6, 6);
    fill_const(d.bias, 8, 0);
    brute_conv2d<LG>(d);
    conv2d<LG>(d.x, out[0].v, d.w, d.bias, d.factor);
    conv2d<LE>(d.x, out[1].v, d.w, d.bias, d.factor);
    conv2d<LT>(d.x, out[2].v, d.w, d.bias, d.factor);
    const long n = 8L * LG::H_OUT * LG::W_OUT;
    long exact_total[3] = {0, 0, 0}, clamped_total[3] = {0, 0, 0}, differ[3] = {0, 0, 0};
    long saturated = 0;
    for (int co = 0; co < 8; co++)
        for (int oh = 0; oh < LG::H_OUT; oh++)
            for (int ow = 0; ow < LG::W_OUT; ow++) {
                const long long want = d.want[co][oh][ow];
                const long long clamp = want < -512 ? -512 : (want > 511 ? 511 : want);
                if (clamp != want) saturated++;
                long long v[3];
                for (int m = 0; m < 3; m++) {
                    v[m] = out[m].v[co][oh][ow].to_int64();
                    if (v[m] == want) exact_total[m]++;
                    if (v[m] == clamp) clamped_total[m]++;
                }
                differ[0] += v[0] != v[1];  // group vs exact
                differ[1] += v[2] != v[1];  // tap vs exact
                differ[2] += v[0] != v[2];  // group vs tap
            }
    std::printf("  (d) narrow acc_t ap_fixed<10,10,AP_TRN,AP_SAT>, 32 -> 8, K=3, %ld outputs, "
                "%ld exact totals outside [-512, 511]:\n", n, saturated);
    for (int m = 0; m < 3; m++)
        std::printf("      %-5s: %4ld equal the exact total, %4ld equal it saturated once\n",
                    kModeName[m], exact_total[m], clamped_total[m]);
    std::printf("      outputs that differ: group/exact %ld, tap/exact %ld, group/tap %ld\n",
                differ[0], differ[1], differ[2]);
}

// ---- (e) upsample ------------------------------------------------------------------------------
template <class IN, class OUT, int C, int H_, int W_, int F_, int HALO_, int MODE_>
struct up_shape {
    typedef IN in_t;
    typedef OUT out_t;
    static const int C_IN = C, H = H_, W = W_, F = F_, HALO = HALO_, MODE = MODE_;
    static const int H_OUT = H_ * F_ + 2 * HALO_, W_OUT = W_ * F_ + 2 * HALO_;
};

template <class IN, class OUT, int C, int H, int W, int F, int HALO, int MODE>
static void check_upsample(int64_t lo, int64_t hi) {  // in's raw values in [lo, hi]
    typedef up_shape<IN, OUT, C, H, W, F, HALO, MODE> L;
    static IN x[C][H][W];
    static OUT out[C][L::H_OUT][L::W_OUT];
    fill(&x[0][0][0], C * H * W, lo, hi);
    fill_const(&out[0][0][0], C * L::H_OUT * L::W_OUT, 7);
    upsample<L>(x, out);
    long bad = 0;
    for (int c = 0; c < C; c++)
        for (int oh = 0; oh < L::H_OUT; oh++)
            for (int ow = 0; ow < L::W_OUT; ow++) {
                const int i = oh - HALO, j = ow - HALO;
                long long want = 0;
                if (i >= 0 && i < H * F && j >= 0 && j < W * F &&
                    (MODE == HLS_SIM_UP_NEAREST || (i % F == 0 && j % F == 0)))
                    want = x[c][i / F][j / F].to_int64();
                if (out[c][oh][ow].to_int64() != want && bad++ < 3)
                    std::printf("    [%d][%d][%d]: upsample %lld want %lld\n", c, oh, ow,
                                (long long)out[c][oh][ow].to_int64(), want);
            }
    char line[160];
    std::snprintf(line, sizeof line, "(e) upsample %s F=%d HALO=%d [%dx%dx%d -> %dx%d]",
                  MODE == HLS_SIM_UP_NEAREST ? "nearest" : "zeros", F, HALO, C, H, W, L::H_OUT,
                  L::W_OUT);
    report(line, bad, long(C) * L::H_OUT * L::W_OUT);
}

int main() {
    std::printf("layers self-test\n");
    check_against_conv1x1<seed_types>("(a) conv2d K=1 == conv1x1_layer, seed types", 6);
    check_against_conv1x1<example_types>("(a) conv2d K=1 == conv1x1_layer, example_config types",
                                         6);
    check_against_dw_conv3x3(6);

    //            C_IN C_OUT  H   W  K  S  P  D  G
    check_conv2d<20, 12, 5, 7, 3, 2, 1, 1, 1>("partial block, S=2");
    check_conv2d<16, 32, 5, 7, 3, 1, 1, 1, 1>("one block, same size");
    check_conv2d<8, 6, 9, 6, 3, 1, 2, 2, 2>("groups 2, dilation 2");
    check_conv2d<40, 8, 6, 5, 1, 1, 0, 1, 2>("K=1, groups 2 of 20 (2 blocks)");
    check_conv2d<6, 6, 7, 7, 5, 3, 2, 1, 6>("depthwise, K=5, S=3");
    check_conv2d<16, 16, 8, 9, 4, 1, 0, 1, 1>("even K=4, no padding");
    check_conv2d<3, 5, 11, 10, 7, 2, 3, 1, 1>("K=7, S=2, P=3");
    check_conv2d<4, 4, 12, 13, 3, 4, 1, 3, 1>("S=4, dilation 3");
    check_conv2d<33, 17, 4, 5, 2, 2, 1, 4, 1>("3 blocks, dilation 4, K=2");
    check_conv2d<5, 3, 5, 7, 3, 1, 2, 1, 1>("P=2 > (K-1)/2, 5x7");

    //                    C_IN C_OUT  H   W  K  S  P  D  G  OUT_PAD
    check_conv_transpose<16, 16, 5, 7, 3, 2, 1, 1, 1, 1>("K=3 S=2 P=1 OUT_PAD=1");
    check_conv_transpose<20, 8, 4, 5, 4, 2, 1, 1, 1, 0>("K=4 S=2 P=1, 2 blocks");
    check_conv_transpose<6, 4, 5, 7, 3, 2, 0, 1, 2, 1>("groups 2, P=0, OUT_PAD=1");
    check_conv_transpose<8, 8, 5, 6, 3, 1, 1, 2, 1, 1>("dilation 2, OUT_PAD=1");
    check_conv_transpose<4, 6, 3, 5, 2, 3, 0, 1, 1, 2>("K=2 S=3 OUT_PAD=2");
    check_conv_transpose<17, 3, 5, 7, 1, 1, 0, 1, 1, 0>("K=1, 2 blocks");
    check_conv_transpose<12, 12, 4, 4, 5, 4, 2, 1, 12, 3>("depthwise K=5 S=4 P=2 OUT_PAD=3");
    check_conv_transpose<6, 9, 5, 7, 7, 2, 6, 1, 3, 1>("K=7, P=6 (Q=0), groups 3");
    check_conv_transpose<5, 5, 3, 4, 3, 2, 4, 2, 1, 1>("dilation 2, P=4 (Q=0)");

    show_narrow_modes();

    //             in_t        out_t       C  H  W  F  HALO  MODE
    check_upsample<ap_uint<8>, ap_uint<8>, 3, 5, 7, 2, 0, HLS_SIM_UP_NEAREST>(0, 255);
    check_upsample<ap_uint<8>, ap_uint<8>, 3, 5, 7, 3, 1, HLS_SIM_UP_ZEROS>(0, 255);
    check_upsample<ap_uint<8>, ap_uint<8>, 2, 4, 3, 4, 1, HLS_SIM_UP_NEAREST>(0, 255);
    check_upsample<ap_uint<8>, ap_uint<8>, 2, 4, 3, 2, 0, HLS_SIM_UP_ZEROS>(0, 255);
    check_upsample<ap_int<6>, ap_int<8>, 2, 3, 5, 3, 1, HLS_SIM_UP_NEAREST>(-32, 31);

    if (g_failures == 0) {
        std::printf("PASS\n");
        return 0;
    }
    std::printf("FAIL (%ld checks)\n", g_failures);
    return 1;
}
