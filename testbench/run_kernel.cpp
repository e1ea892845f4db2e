// run_kernel.cpp -- run one kernel of kernels/ on raw data files; used by the Python tests.
//
// Build (exactly one kernel macro; HLS_SIM_CONFIG optional):
//   g++ -O2 -std=c++11 -isystem <ap_types> -Ikernels -DHLS_SIM_KERNEL_CONV1X1
//       [-DHLS_SIM_CONFIG='"cfg.h"'] testbench/run_kernel.cpp kernels/conv1x1.cpp -o run_conv1x1
//   (-DHLS_SIM_KERNEL_DW_CONV_3X3 with kernels/dw_conv3x3.cpp for the depthwise kernel)
//
// Run: run_kernel DIR
//   reads DIR/bottom.bin  16*34*66 raw in_t    (index [c][h][w], row-major)
//         DIR/top.bin     16*34*66 raw out_t   (initial contents of top)
//         DIR/weight.bin  256 (conv1x1, [16][16]) or 144 (DW_CONV_3x3, [16][3][3]) raw weight_t
//         DIR/bias.bin    16 raw bias_t
//         DIR/factor.bin  1 raw factor_t, or 16 if HLS_SIM_PER_CHANNEL_FACTOR is 1
//   writes DIR/top_out.bin  16*34*66 raw out_t (the whole buffer, untouched elements included)
// Every file: little-endian int64 per element, no header (see tb_io.h). Exit 0 on success;
// exit 2 with a one-line message on stderr for bad usage, a missing or wrongly sized file, or a
// value that does not fit its element type; exit 3 if the output cannot be written.
#include <cstdio>
#include <string>

#include "hls_config.h"
#include "tb_io.h"

#if defined(HLS_SIM_KERNEL_CONV1X1) && !defined(HLS_SIM_KERNEL_DW_CONV_3X3)
#include "conv1x1.h"
#define HLS_SIM_KERNEL_NAME "conv1x1"
#define HLS_SIM_WEIGHT_COUNT (16 * 16)
#define HLS_SIM_CALL_KERNEL(b, t, wt, bs, f) conv1x1(b, t, wt, bs, f)
typedef weight_t weight_array_t[16][16];
#define HLS_SIM_WEIGHT_FLAT (&weight[0][0])
#elif defined(HLS_SIM_KERNEL_DW_CONV_3X3) && !defined(HLS_SIM_KERNEL_CONV1X1)
#include "dw_conv3x3.h"
#define HLS_SIM_KERNEL_NAME "DW_CONV_3x3"
#define HLS_SIM_WEIGHT_COUNT (16 * 3 * 3)
#define HLS_SIM_CALL_KERNEL(b, t, wt, bs, f) DW_CONV_3x3(b, t, wt, bs, f)
typedef weight_t weight_array_t[16][3][3];
#define HLS_SIM_WEIGHT_FLAT (&weight[0][0][0])
#else
#error "define exactly one of HLS_SIM_KERNEL_CONV1X1, HLS_SIM_KERNEL_DW_CONV_3X3"
#endif

#if HLS_SIM_PER_CHANNEL_FACTOR
#define HLS_SIM_FACTOR_COUNT 16
#else
#define HLS_SIM_FACTOR_COUNT 1
#endif

static const size_t kBuf = 16 * 34 * 66;

// Static: the two buffers are large for a stack.
static in_t bottom[16][34][66];
static out_t top[16][34][66];
static weight_array_t weight;
static bias_t bias[16];
static factor_t factor[HLS_SIM_FACTOR_COUNT];

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR  (kernel %s)\n", argv[0], HLS_SIM_KERNEL_NAME);
        return 2;
    }
    const std::string dir = std::string(argv[1]) + "/";
    std::string err;
    if (!tb::load_raw(dir + "bottom.bin", &bottom[0][0][0], kBuf, err) ||
        !tb::load_raw(dir + "top.bin", &top[0][0][0], kBuf, err) ||
        !tb::load_raw(dir + "weight.bin", HLS_SIM_WEIGHT_FLAT, HLS_SIM_WEIGHT_COUNT, err) ||
        !tb::load_raw(dir + "bias.bin", bias, 16, err) ||
        !tb::load_raw(dir + "factor.bin", factor, HLS_SIM_FACTOR_COUNT, err)) {
        std::fprintf(stderr, "run_kernel (%s): %s\n", HLS_SIM_KERNEL_NAME, err.c_str());
        return 2;
    }

#if HLS_SIM_PER_CHANNEL_FACTOR
    HLS_SIM_CALL_KERNEL(bottom, top, weight, bias, factor);
#else
    HLS_SIM_CALL_KERNEL(bottom, top, weight, bias, factor[0]);
#endif

    if (!tb::store_raw(dir + "top_out.bin", &top[0][0][0], kBuf, err)) {
        std::fprintf(stderr, "run_kernel (%s): %s\n", HLS_SIM_KERNEL_NAME, err.c_str());
        return 3;
    }
    return 0;
}
