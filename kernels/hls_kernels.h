// hls_kernels.h -- the helpers the seed kernels call but never define.
//
//   acc_t compute_engine_16(weight_t w0, in_t b0, ..., weight_t w15, in_t b15)
//   qd_t  quant_dequant(acc_t acc, factor_t factor)
//   qd_t  qunat_dequant2(acc_t acc, factor_t factor)   (the seed's spelling; same function)
//   out_t relu(sum_t x)
//
// All types come from hls_config.h. Precision is lost only in the conversions to the named
// types (the return to acc_t, qd_t, out_t and the argument conversion to sum_t); every
// intermediate expression keeps the natural full-precision ap_* result type. Needs C++11 or
// later (`auto`).
//
// These are the seed's scalar spellings of the templated building blocks of hls_layer.h,
// instantiated with hls_sim_global_config (the global typedefs): compute_engine_16 is
// engine_16, relu is the epilogue's activation. One definition of each expression serves the
// seed (testbench/seed_verbatim.cpp calls these) and every templated kind.
#ifndef HLS_SIM_HLS_KERNELS_H
#define HLS_SIM_HLS_KERNELS_H

#include "hls_config.h"
#include "hls_layer.h"

// Sixteen products summed by a balanced adder tree (engine_16): each sum has the natural ap_*
// result type (one bit wider than its wider operand), so no intermediate overflows; with the
// default types the products are ap_int<16> and the total ap_int<20>. Only the final
// conversion to acc_t can wrap or saturate (as acc_t's own overflow mode says).
inline acc_t compute_engine_16(weight_t w0, in_t b0, weight_t w1, in_t b1,
                               weight_t w2, in_t b2, weight_t w3, in_t b3,
                               weight_t w4, in_t b4, weight_t w5, in_t b5,
                               weight_t w6, in_t b6, weight_t w7, in_t b7,
                               weight_t w8, in_t b8, weight_t w9, in_t b9,
                               weight_t w10, in_t b10, weight_t w11, in_t b11,
                               weight_t w12, in_t b12, weight_t w13, in_t b13,
                               weight_t w14, in_t b14, weight_t w15, in_t b15) {
    const weight_t w[16] = {w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15};
    const in_t b[16] = {b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15};
    return engine_16<hls_sim_global_config>(w, b);
}

// acc * factor in its natural full-precision type (default ap_fixed<64,33>: exact), then one
// conversion to qd_t. With the default qd_t that conversion rounds half up (AP_RND: toward
// +infinity on ties) to an integer and saturates to [-32768, 32767].
inline qd_t quant_dequant(acc_t acc, factor_t factor) {
    return qd_t(acc * factor);
}

// The seed's spelling.
inline qd_t qunat_dequant2(acc_t acc, factor_t factor) {
    return quant_dequant(acc, factor);
}

#if HLS_SIM_RELU_CLIP
// The largest value out_t holds: all value bits set, the sign bit clear if out_t is signed.
// Works for any ap_int/ap_uint/ap_fixed/ap_ufixed out_t.
inline out_t hls_sim_out_max() {
    return hls_sim_layer_out_max<hls_sim_global_config>();
}
#endif

// Called as relu(bias[c] + qunat_dequant2(...)): the sum (default ap_fixed<17,17>) is converted
// to sum_t by this call. x < 0 gives 0; with HLS_SIM_RELU_CLIP, x > max(out_t) gives max(out_t)
// (x compared before any conversion to out_t); otherwise out_t(x).
inline out_t relu(sum_t x) {
    return hls_sim_activate<hls_sim_global_config>(x);
}

#endif  // HLS_SIM_HLS_KERNELS_H
