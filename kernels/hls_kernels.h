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
#ifndef HLS_SIM_HLS_KERNELS_H
#define HLS_SIM_HLS_KERNELS_H

#include "hls_config.h"

// Sixteen products summed by a balanced adder tree. Each sum has the natural ap_* result type
// (one bit wider than its wider operand), so no intermediate overflows; with the default types
// the products are ap_int<16> and the total ap_int<20>. Only the final conversion to acc_t can
// wrap or saturate (as acc_t's own overflow mode says).
inline acc_t compute_engine_16(weight_t w0, in_t b0, weight_t w1, in_t b1,
                               weight_t w2, in_t b2, weight_t w3, in_t b3,
                               weight_t w4, in_t b4, weight_t w5, in_t b5,
                               weight_t w6, in_t b6, weight_t w7, in_t b7,
                               weight_t w8, in_t b8, weight_t w9, in_t b9,
                               weight_t w10, in_t b10, weight_t w11, in_t b11,
                               weight_t w12, in_t b12, weight_t w13, in_t b13,
                               weight_t w14, in_t b14, weight_t w15, in_t b15) {
    auto p0 = w0 * b0;
    auto p1 = w1 * b1;
    auto p2 = w2 * b2;
    auto p3 = w3 * b3;
    auto p4 = w4 * b4;
    auto p5 = w5 * b5;
    auto p6 = w6 * b6;
    auto p7 = w7 * b7;
    auto p8 = w8 * b8;
    auto p9 = w9 * b9;
    auto p10 = w10 * b10;
    auto p11 = w11 * b11;
    auto p12 = w12 * b12;
    auto p13 = w13 * b13;
    auto p14 = w14 * b14;
    auto p15 = w15 * b15;

    auto s0 = p0 + p1;
    auto s1 = p2 + p3;
    auto s2 = p4 + p5;
    auto s3 = p6 + p7;
    auto s4 = p8 + p9;
    auto s5 = p10 + p11;
    auto s6 = p12 + p13;
    auto s7 = p14 + p15;

    auto t0 = s0 + s1;
    auto t1 = s2 + s3;
    auto t2 = s4 + s5;
    auto t3 = s6 + s7;

    auto u0 = t0 + t1;
    auto u1 = t2 + t3;

    return acc_t(u0 + u1);
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
    out_t m = 0;
    m = ~m;                                  // all ones
    if (m < 0) m[out_t::width - 1] = 0;      // signed: clear the sign bit
    return m;
}
#endif

// Called as relu(bias[c] + qunat_dequant2(...)): the sum (default ap_fixed<17,17>) is converted
// to sum_t by this call. The clip compares x before any conversion to out_t.
inline out_t relu(sum_t x) {
#if HLS_SIM_RELU_CLIP
    if (x < 0) return out_t(0);
    const out_t top = hls_sim_out_max();
    if (x > top) return top;
    return out_t(x);
#else
    if (x < 0) return out_t(0);
    return out_t(x);
#endif
}

#endif  // HLS_SIM_HLS_KERNELS_H
