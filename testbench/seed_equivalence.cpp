// seed_equivalence.cpp -- proves, for the default configuration, that
//   1. the seed's two kernels pasted verbatim (seed_verbatim.cpp) compile against
//      kernels/hls_kernels.h, and
//   2. they give bit-identical tops to kernels/conv1x1.cpp and kernels/dw_conv3x3.cpp, and
//   3. both equal a plain-integer reference of the documented default semantics
//      (docs/kernels.md): exact accumulation, acc*factor rounded half up (toward +inf) to an
//      integer and saturated to 16 bits, bias added exactly, relu clipped to [0, 255],
// on pseudo-random inputs chosen to cover large accumulators, saturation of quant_dequant,
// rounding ties, negative sums and every relu branch. The whole top buffer is compared, halo
// and untouched elements included. Prints PASS or FAIL; exit status 0 or 1.
//
// Build: g++ -O2 -std=c++11 -isystem <ap_types> -Ikernels testbench/seed_equivalence.cpp
//            kernels/conv1x1.cpp kernels/dw_conv3x3.cpp -o seed_equivalence
#include <cstdint>
#include <cstdio>

#include "hls_kernels.h"
#include "conv1x1.h"
#include "dw_conv3x3.h"
#include "tb_io.h"

#if defined(HLS_SIM_CONFIG) || HLS_SIM_PER_CHANNEL_FACTOR || !HLS_SIM_RELU_CLIP
#error "seed_equivalence checks the default configuration only"
#endif

namespace seed {
#include "seed_verbatim.cpp"
}

// ---- deterministic PRNG (splitmix64) -----------------------------------------------------
static uint64_t g_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64() {
    uint64_t z = (g_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
// uniform integer in [lo, hi]
static int64_t rnd(int64_t lo, int64_t hi) {
    return lo + int64_t(next_u64() % uint64_t(hi - lo + 1));
}

// ---- plain-integer reference of the default semantics -------------------------------------
static int64_t floor_div_pow2(int64_t x, int k) {  // floor(x / 2^k), exact for negative x
    const int64_t d = int64_t(1) << k;
    int64_t q = x / d;
    if ((x % d) != 0 && x < 0) q -= 1;
    return q;
}
static int64_t ref_qd(int64_t acc, int64_t factor_raw) {  // factor = factor_raw * 2^-31
    int64_t q = floor_div_pow2(acc * factor_raw + (int64_t(1) << 30), 31);  // round half up
    if (q > 32767) q = 32767;
    if (q < -32768) q = -32768;
    return q;
}
static int64_t ref_out(int64_t acc, int64_t bias, int64_t factor_raw) {
    const int64_t s = bias + ref_qd(acc, factor_raw);
    return s < 0 ? 0 : (s > 255 ? 255 : s);
}

// ---- data ----------------------------------------------------------------------------------
static in_t bottom[16][34][66];
static out_t top_init[16][34][66];
static out_t top_ours[16][34][66];
static out_t top_seed[16][34][66];
static int64_t top_ref[16][34][66];
static weight_t w1[16][16];
static weight_t w3[16][3][3];
static bias_t bias[16];

static long g_outputs = 0, g_zero = 0, g_max = 0, g_mid = 0, g_qd_sat = 0, g_ties = 0;

static void fill_inputs(int trial, int64_t& factor_raw) {
    const int wmode = trial % 5, bmode = (trial / 5) % 3, fmode = (trial / 15) % 4;
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 34; h++)
            for (int w = 0; w < 66; w++) {
                int64_t v;
                if (bmode == 0) v = rnd(0, 255);                        // uniform
                else if (bmode == 1) v = rnd(0, 3) ? rnd(240, 255) : rnd(0, 255);  // near max
                else v = rnd(0, 4) ? 0 : rnd(0, 255);                   // sparse
                bottom[c][h][w] = int(v);
                top_init[c][h][w] = int(rnd(0, 255));
            }
    for (int i = 0; i < 16; i++) {
        for (int j = 0; j < 16 + 9; j++) {
            int64_t v;
            if (wmode == 0) v = rnd(-128, 127);                         // uniform
            else if (wmode == 1) v = rnd(120, 127);                     // large positive acc
            else if (wmode == 2) v = rnd(-128, -120);                   // large negative acc
            else if (wmode == 3) v = rnd(0, 1) ? 127 : -128;            // extremes
            else v = (i % 2) ? rnd(-128, -100) : rnd(100, 127);         // per channel sign
            if (j < 16) w1[i][j] = int(v);
            else w3[i][(j - 16) / 3][(j - 16) % 3] = int(v);
        }
        bias[i] = int(rnd(0, 1) ? rnd(-300, 300) : rnd(-32768, 32767));
    }
    if (fmode == 0) factor_raw = rnd(-(int64_t(1) << 31), (int64_t(1) << 31) - 1);  // full range
    else if (fmode == 1) {                                      // exact powers of two: ties
        factor_raw = int64_t(1) << rnd(10, 30);
        if (rnd(0, 1)) factor_raw = -factor_raw;
    } else if (fmode == 2) factor_raw = rnd(-(int64_t(1) << 22), int64_t(1) << 22);   // small
    else factor_raw = rnd(0, 1) ? (int64_t(1) << 31) - 1 : -(int64_t(1) << 31);     // ~ +1 / -1
}

static void reset_tops() {
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 34; h++)
            for (int w = 0; w < 66; w++) {
                top_ours[c][h][w] = top_init[c][h][w];
                top_seed[c][h][w] = top_init[c][h][w];
                top_ref[c][h][w] = tb::get_raw(top_init[c][h][w]);
            }
}

static void note(int64_t acc, int64_t bias_v, int64_t factor_raw, int64_t out) {
    g_outputs++;
    if (out == 0) g_zero++;
    else if (out == 255) g_max++;
    else g_mid++;
    const int64_t qd = ref_qd(acc, factor_raw);
    if (qd == 32767 || qd == -32768) g_qd_sat++;
    const int64_t p = acc * factor_raw;
    if (((p % (int64_t(1) << 31)) + (int64_t(1) << 31)) % (int64_t(1) << 31) == (int64_t(1) << 30))
        g_ties++;
    (void)bias_v;
}

static void reference_conv1x1(int64_t factor_raw) {
    for (int h = 0; h < 32; h++)
        for (int w = 0; w < 64; w++)
            for (int co = 0; co < 16; co++) {
                int64_t acc = 0;
                for (int ci = 0; ci < 16; ci++)
                    acc += tb::get_raw(w1[co][ci]) * tb::get_raw(bottom[ci][h][w]);
                const int64_t b = tb::get_raw(bias[co]);
                top_ref[co][h][w] = ref_out(acc, b, factor_raw);
                note(acc, b, factor_raw, top_ref[co][h][w]);
            }
}

static void reference_dw(int64_t factor_raw) {
    for (int co = 0; co < 16; co++)
        for (int h = 1; h <= 32; h++)
            for (int w = 1; w <= 64; w++) {
                int64_t acc = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        acc += tb::get_raw(w3[co][i][j]) *
                               tb::get_raw(bottom[co][h - 1 + i][w - 1 + j]);
                const int64_t b = tb::get_raw(bias[co]);
                top_ref[co][h][w] = ref_out(acc, b, factor_raw);
                note(acc, b, factor_raw, top_ref[co][h][w]);
            }
}

static long compare(const char* kernel, int trial) {
    long bad = 0;
    for (int c = 0; c < 16; c++)
        for (int h = 0; h < 34; h++)
            for (int w = 0; w < 66; w++) {
                const int64_t o = tb::get_raw(top_ours[c][h][w]);
                const int64_t s = tb::get_raw(top_seed[c][h][w]);
                const int64_t r = top_ref[c][h][w];
                if (o != s || o != r) {
                    if (bad < 5)
                        std::printf("  %s trial %d [%d][%d][%d]: kernels/=%lld seed=%lld "
                                    "reference=%lld\n",
                                    kernel, trial, c, h, w, (long long)o, (long long)s,
                                    (long long)r);
                    bad++;
                }
            }
    return bad;
}

int main() {
    const int trials = 60;  // every (weight, bottom, factor) mode combination at least once
    long bad = 0;
    for (int t = 0; t < trials; t++) {
        int64_t factor_raw = 0;
        fill_inputs(t, factor_raw);
        factor_t factor;
        tb::set_raw(factor, factor_raw);

        reset_tops();
        conv1x1(bottom, top_ours, w1, bias, factor);
        seed::conv1x1(bottom, top_seed, w1, bias, factor);
        reference_conv1x1(factor_raw);
        bad += compare("conv1x1", t);

        reset_tops();
        DW_CONV_3x3(bottom, top_ours, w3, bias, factor);
        seed::DW_CONV_3x3(bottom, top_seed, w3, bias, factor);
        reference_dw(factor_raw);
        bad += compare("DW_CONV_3x3", t);
    }
    std::printf("outputs checked: %ld (relu 0: %ld, relu 255: %ld, in between: %ld; "
                "quant_dequant saturated: %ld; rounding ties: %ld)\n",
                g_outputs, g_zero, g_max, g_mid, g_qd_sat, g_ties);
    const bool coverage = g_zero > 0 && g_max > 0 && g_mid > 0 && g_qd_sat > 0 && g_ties > 0;
    if (!coverage) std::printf("coverage incomplete\n");
    if (bad == 0 && coverage) {
        std::printf("PASS\n");
        return 0;
    }
    std::printf("FAIL (%ld mismatching elements)\n", bad);
    return 1;
}
