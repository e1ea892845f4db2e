// merge.h -- the merge layers of skip connections (docs/kinds.md, "add", "concat"):
//
//   template <class CFG>
//   void add(in_t in[C_IN][H][W], in2_t in2[C_IN][H][W], out_t out[C_IN][H][W]);
//   template <class CFG>
//   void concat(in_t in[C_IN][H][W], in2_t in2[C_IN2][H][W], out_t out[C_IN + C_IN2][H][W]);
//
// add (reads in_t, in2_t, out_t; CFG::RELU):
//
//   s = in[c][h][w] + in2[c][h][w];     the headers' natural sum: both operands aligned to the
//                                       finer LSB, no rounding, no overflow
//   if (CFG::RELU && s < 0) s = 0;      the residual block's relu, fused
//   out[c][h][w] = out_t(s);            the only conversion (out_t's modes)
//
// concat (reads in_t, in2_t, out_t): out[c] = out_t(in[c]) for c < C_IN, then
// out[C_IN + c] = out_t(in2[c]) for c < C_IN2; each value is one conversion to out_t.
//
// Both write all of out and need only hls_layer.h. Synthesizable: static sizes, one output per
// pipelined iteration (II=1).
#ifndef HLS_SIM_MERGE_H
#define HLS_SIM_MERGE_H

#include "hls_layer.h"

template <class CFG>
void add(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
         typename CFG::in2_t in2[CFG::C_IN][CFG::H][CFG::W],
         typename CFG::out_t out[CFG::C_IN][CFG::H][CFG::W]) {
    typedef typename CFG::out_t out_t;
    static_assert(CFG::RELU == 0 || CFG::RELU == 1, "add: RELU must be 0 or 1");
    static_assert(CFG::C_IN2 == CFG::C_IN && CFG::C_OUT == CFG::C_IN &&
                      CFG::H_OUT == CFG::H && CFG::W_OUT == CFG::W,
                  "add: both inputs and the output must have the same shape");

C:
    for (int c = 0; c < CFG::C_IN; c++) {
    H:
        for (int h = 0; h < CFG::H; h++) {
        W:
            for (int w = 0; w < CFG::W; w++) {
#pragma HLS PIPELINE II=1
                auto s = in[c][h][w] + in2[c][h][w];  // natural type: exact
                if (CFG::RELU && s < 0) s = 0;
                out[c][h][w] = out_t(s);
            }
        }
    }
}

template <class CFG>
void concat(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
            typename CFG::in2_t in2[CFG::C_IN2][CFG::H][CFG::W],
            typename CFG::out_t out[CFG::C_IN + CFG::C_IN2][CFG::H][CFG::W]) {
    typedef typename CFG::out_t out_t;
    static_assert(CFG::C_OUT == CFG::C_IN + CFG::C_IN2 && CFG::H_OUT == CFG::H &&
                      CFG::W_OUT == CFG::W,
                  "concat: the output must be [C_IN + C_IN2][H][W]");

C1:
    for (int c = 0; c < CFG::C_IN; c++) {
    H1:
        for (int h = 0; h < CFG::H; h++) {
        W1:
            for (int w = 0; w < CFG::W; w++) {
#pragma HLS PIPELINE II=1
                out[c][h][w] = out_t(in[c][h][w]);
            }
        }
    }
C2:
    for (int c = 0; c < CFG::C_IN2; c++) {
    H2:
        for (int h = 0; h < CFG::H; h++) {
        W2:
            for (int w = 0; w < CFG::W; w++) {
#pragma HLS PIPELINE II=1
                out[CFG::C_IN + c][h][w] = out_t(in2[c][h][w]);
            }
        }
    }
}

#endif  // HLS_SIM_MERGE_H
