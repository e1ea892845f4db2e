// hls_config.h -- the ONE configuration header of the hls-sim kernels.
//
// Every type the kernels in kernels/ use, and every behaviour switch, is set here and only
// here. The defaults reproduce the seed kernels (spec/seed_kernels.cpp) exactly:
//
//   name      default                              role
//   in_t      ap_uint<8>                           element of the bottom (input) buffer
//   out_t     ap_uint<8>                           element of the top (output) buffer
//   weight_t  ap_int<8>                            weight
//   bias_t    ap_int<16>                           bias
//   factor_t  ap_fixed<32,1>                       requantization factor, in [-1, 1)
//   acc_t     ap_int<32>                           accumulator; what compute_engine_16 returns
//   qd_t      ap_fixed<16,16,AP_RND,AP_SAT>        result of quant_dequant: acc*factor rounded
//                                                  half up to an integer, saturated to 16 bits
//   sum_t     ap_int<18>                           argument of relu: bias + quant_dequant(...)
//                                                  (ap_int<16> + 16-bit qd_t needs 17 bits, so
//                                                  by default this conversion never overflows)
//
//   macro                       default  meaning
//   HLS_SIM_RELU_CLIP           1        1: relu(x) = 0 for x < 0, max(out_t) for x > max(out_t),
//                                           out_t(x) otherwise.
//                                        0: relu(x) = 0 for x < 0, plain out_t(x) otherwise
//                                           (wraps or saturates as out_t's own modes say).
//   HLS_SIM_PER_CHANNEL_FACTOR  0        0: the kernels take one `factor_t factor`.
//                                        1: they take `factor_t factor[16]`, one per output channel.
//   HLS_SIM_PRODUCT_T           0        1: the header also typedefs product_t, the type of
//                                           compute_engine_16's products (else natural).
//   HLS_SIM_TREE_T              0        1: the header also typedefs tree_t, the type of
//                                           compute_engine_16's adders (else natural).
//
// Derived (do not set): HLS_SIM_FACTOR_PARAM (the kernels' last parameter) and
// HLS_SIM_FACTOR(c) (the factor used for output channel c), and hls_sim_global_config: the
// per-layer traits struct (docs/kinds.md) made of these typedefs and switches, with which the
// seed's conv1x1 and DW_CONV_3x3 call their templates conv1x1_layer and dw_conv3x3_layer.
//
// Overriding: compile with -DHLS_SIM_CONFIG='"path/to/my_config.h"'. That header is then
// included INSTEAD of the default typedefs below (after <ap_int.h> and <ap_fixed.h>), so it must
// typedef all eight names. It may #define HLS_SIM_RELU_CLIP and HLS_SIM_PER_CHANNEL_FACTOR;
// whichever it leaves undefined (and is not given with -D) gets the default above.
#ifndef HLS_SIM_HLS_CONFIG_H
#define HLS_SIM_HLS_CONFIG_H

#include <ap_int.h>
#include <ap_fixed.h>
// The templated building blocks (they use no global typedef, so they come first).
#include "hls_layer.h"

#ifdef HLS_SIM_CONFIG
#include HLS_SIM_CONFIG
#else
typedef ap_uint<8> in_t;
typedef ap_uint<8> out_t;
typedef ap_int<8> weight_t;
typedef ap_int<16> bias_t;
typedef ap_fixed<32, 1> factor_t;
typedef ap_int<32> acc_t;
typedef ap_fixed<16, 16, AP_RND, AP_SAT> qd_t;
typedef ap_int<18> sum_t;
#endif

#ifndef HLS_SIM_RELU_CLIP
#define HLS_SIM_RELU_CLIP 1
#endif
#ifndef HLS_SIM_PER_CHANNEL_FACTOR
#define HLS_SIM_PER_CHANNEL_FACTOR 0
#endif
#ifndef HLS_SIM_PRODUCT_T
#define HLS_SIM_PRODUCT_T 0
#endif
#ifndef HLS_SIM_TREE_T
#define HLS_SIM_TREE_T 0
#endif

#if (HLS_SIM_RELU_CLIP != 0) && (HLS_SIM_RELU_CLIP != 1)
#error "HLS_SIM_RELU_CLIP must be 0 or 1"
#endif
#if (HLS_SIM_PER_CHANNEL_FACTOR != 0) && (HLS_SIM_PER_CHANNEL_FACTOR != 1)
#error "HLS_SIM_PER_CHANNEL_FACTOR must be 0 or 1"
#endif

#if HLS_SIM_PER_CHANNEL_FACTOR
#define HLS_SIM_FACTOR_PARAM factor_t factor[16]
#define HLS_SIM_FACTOR(c) factor[c]
#else
#define HLS_SIM_FACTOR_PARAM factor_t factor
#define HLS_SIM_FACTOR(c) factor
#endif

// The global configuration as a traits struct for the templated kernels (kernels/hls_layer.h,
// conv1x1_layer, dw_conv3x3_layer). The seed kinds read only these members.
struct hls_sim_global_config {
    typedef ::in_t in_t;
    typedef ::out_t out_t;
    typedef ::weight_t weight_t;
    typedef ::bias_t bias_t;
    typedef ::factor_t factor_t;
    typedef ::acc_t acc_t;
    typedef ::qd_t qd_t;
    typedef ::sum_t sum_t;
    static const int RELU_CLIP = HLS_SIM_RELU_CLIP;
    static const int N_FACTOR = HLS_SIM_PER_CHANNEL_FACTOR ? 16 : 1;
    static const int ACTIVATION = HLS_SIM_ACT_RELU;
#if HLS_SIM_PRODUCT_T
    typedef ::product_t product_t;  // compute_engine_16's products (hls_layer.h)
#endif
#if HLS_SIM_TREE_T
    typedef ::tree_t tree_t;  // compute_engine_16's adders (hls_layer.h)
#endif
};

#endif  // HLS_SIM_HLS_CONFIG_H
