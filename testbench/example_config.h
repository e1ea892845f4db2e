// example_config.h -- an example of a replacement configuration for kernels/hls_config.h, used
// as -DHLS_SIM_CONFIG='"example_config.h"' (path as the compiler's include search finds it).
// It must typedef all eight names; <ap_int.h> and <ap_fixed.h> are already included. This one
// exercises the non-default corners: a signed fixed-point output, a narrow accumulator that
// wraps, a quant_dequant result with fraction bits and convergent rounding, per-channel factors
// and an unclipped relu.
#ifndef HLS_SIM_EXAMPLE_CONFIG_H
#define HLS_SIM_EXAMPLE_CONFIG_H

typedef ap_uint<8> in_t;
typedef ap_fixed<8, 6, AP_TRN, AP_WRAP> out_t;       // signed: top_out.bin is sign-extended
typedef ap_int<8> weight_t;
typedef ap_int<16> bias_t;
typedef ap_fixed<24, 2> factor_t;                    // raw * 2^-22, in [-2, 2)
typedef ap_int<18> acc_t;                            // conv1x1 sums can exceed it: wraps
typedef ap_fixed<20, 16, AP_RND_CONV, AP_SAT> qd_t;  // keeps 4 fraction bits
typedef ap_fixed<22, 18> sum_t;

#ifndef HLS_SIM_RELU_CLIP
#define HLS_SIM_RELU_CLIP 0
#endif
#ifndef HLS_SIM_PER_CHANNEL_FACTOR
#define HLS_SIM_PER_CHANNEL_FACTOR 1
#endif

#endif  // HLS_SIM_EXAMPLE_CONFIG_H
