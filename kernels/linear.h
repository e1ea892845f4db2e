// linear.h -- a fully connected layer on compute_engine_16 (docs/kinds.md, "linear"):
//
//   template <class CFG>
//   void linear(in_t in[C_IN], out_t out[C_OUT], weight_t weight[C_OUT][C_IN],
//               bias_t bias[C_OUT], factor_t factor[N_FACTOR]);
//
//   out[co] = epilogue<CFG>(acc, bias[co], factor[N_FACTOR == 1 ? 0 : co]),
//   acc     = sum over ci of weight[co][ci] * in[ci], in blocks of 16 input features
//
// PyTorch Linear's weight layout [out_features][in_features]. The inputs are taken in blocks
// of 16 (the last block padded with zero weights and inputs), one engine step per block,
// accumulated into acc_t as CFG::ACCUMULATE says (GROUP: acc += engine_16(...), EXACT: one
// conversion of the exact total from wide_t, TAP: acc += w*x per product), exactly as conv2d
// does for a 1x1 convolution of a 1x1 map (the twin runs it as that; the bits are the same).
//
// Needs only hls_layer.h and conv2d.h's accumulators. Synthesizable: static sizes, the block
// loop pipelined (II=1) with its 16 weights and 16 inputs in registers.
#ifndef HLS_SIM_LINEAR_H
#define HLS_SIM_LINEAR_H

#include "conv2d.h"

template <class CFG>
void linear(typename CFG::in_t in[CFG::C_IN], typename CFG::out_t out[CFG::C_OUT],
            typename CFG::weight_t weight[CFG::C_OUT][CFG::C_IN],
            typename CFG::bias_t bias[CFG::C_OUT], typename CFG::factor_t factor[CFG::N_FACTOR]) {
    typedef typename CFG::in_t in_t;
    typedef typename CFG::weight_t weight_t;
    static const int NB = (CFG::C_IN + 15) / 16;  // blocks of 16 input features
    static_assert(CFG::C_IN >= 1 && CFG::C_OUT >= 1, "linear: C_IN and C_OUT must be >= 1");
    static_assert(CFG::N_FACTOR == 1 || CFG::N_FACTOR == CFG::C_OUT,
                  "linear: N_FACTOR must be 1 or C_OUT");
#pragma HLS ARRAY_PARTITION variable=in cyclic factor=16 dim=1
#pragma HLS ARRAY_PARTITION variable=weight cyclic factor=16 dim=2

CO:
    for (int co = 0; co < CFG::C_OUT; co++) {
        hls_sim_accumulator<CFG, CFG::ACCUMULATE> acc;
        acc.reset();
    B:
        for (int b = 0; b < NB; b++) {
#pragma HLS PIPELINE II=1
            weight_t w16[16];
            in_t x16[16];
#pragma HLS ARRAY_PARTITION variable=w16 complete
#pragma HLS ARRAY_PARTITION variable=x16 complete
        LANE:
            for (int k = 0; k < 16; k++) {
                const int ci = 16 * b + k;
                w16[k] = ci < CFG::C_IN ? weight[co][ci] : weight_t(0);
                x16[k] = ci < CFG::C_IN ? in[ci] : in_t(0);
            }
            acc.add(w16, x16);
        }
        out[co] = epilogue<CFG>(acc.result(), bias[co], factor[CFG::N_FACTOR == 1 ? 0 : co]);
    }
}

#endif  // HLS_SIM_LINEAR_H
