// conv2d.h -- PyTorch Conv2d as the accelerator computes it (docs/kinds.md, "conv2d"):
//
//   template <class CFG>
//   void conv2d(in_t in[C_IN][H][W], out_t out[C_OUT][H_OUT][W_OUT],
//               weight_t weight[C_OUT][C_IN / G][K][K], bias_t bias[C_OUT],
//               factor_t factor[N_FACTOR]);
//
// every type and size from the traits struct CFG: kernel K, stride S, zero padding P (every
// side), dilation D, groups G, H_OUT = (H + 2P - D(K-1) - 1) / S + 1 (the same for W). Writes
// all of out. The input channels of a group are taken in blocks of 16 (the last block, or a
// group of fewer than 16 channels, padded with zero weights); each (block, kh, kw) is one
// 16-lane engine step, and the steps are accumulated into acc_t as CFG::ACCUMULATE says:
//
//   HLS_SIM_ACC_GROUP   acc = 0; acc += engine_16<CFG>(w16, x16)    (engine returns acc_t(E))
//   HLS_SIM_ACC_EXACT   wide_t t = 0; t += w*x for every product; acc_t acc = t
//   HLS_SIM_ACC_TAP     acc = 0; acc += w*x one product at a time, lanes k = 0..15
//
// then out[co][oh][ow] = epilogue<CFG>(acc, bias[co], factor[N_FACTOR == 1 ? 0 : co]).
// Taps outside the input read zeros; a zero product leaves acc unchanged in every mode, so
// this equals skipping them, bit for bit.
//
// Needs only hls_layer.h (no global typedef). Synthesizable: static sizes, no recursion, no
// dynamic allocation; the engine step is the pipelined loop body (II=1), with its 16 weight and
// 16 input operands in registers.
#ifndef HLS_SIM_CONV2D_H
#define HLS_SIM_CONV2D_H

#include "hls_layer.h"

// The running sum of one output, by accumulation mode: reset(), add(w16, x16) per engine step,
// result(). Only the chosen mode is instantiated (GROUP and TAP never name wide_t).
template <class CFG, int ACCUMULATE>
struct hls_sim_accumulator;

// group: each engine step's exact 16-product sum converted to acc_t, then added into acc_t.
template <class CFG>
struct hls_sim_accumulator<CFG, HLS_SIM_ACC_GROUP> {
    typename CFG::acc_t acc;
    void reset() { acc = 0; }
    void add(const typename CFG::weight_t w[16], const typename CFG::in_t x[16]) {
        acc += engine_16<CFG>(w, x);
    }
    typename CFG::acc_t result() const { return acc; }
};

// exact: every product added into wide_t (wide enough never to overflow), converted to acc_t
// once at the end.
template <class CFG>
struct hls_sim_accumulator<CFG, HLS_SIM_ACC_EXACT> {
    typename CFG::wide_t t;
    void reset() { t = 0; }
    void add(const typename CFG::weight_t w[16], const typename CFG::in_t x[16]) {
    EXACT_LANE:
        for (int k = 0; k < 16; k++) {
#pragma HLS UNROLL
            t += w[k] * x[k];
        }
    }
    typename CFG::acc_t result() const {
        typename CFG::acc_t acc = t;
        return acc;
    }
};

// tap: every product added into acc_t on its own (rounds and saturates, or wraps, after each
// product, as acc_t's modes say), lane by lane.
template <class CFG>
struct hls_sim_accumulator<CFG, HLS_SIM_ACC_TAP> {
    typename CFG::acc_t acc;
    void reset() { acc = 0; }
    void add(const typename CFG::weight_t w[16], const typename CFG::in_t x[16]) {
    TAP_LANE:
        for (int k = 0; k < 16; k++) {
#pragma HLS UNROLL
            acc += w[k] * x[k];
        }
    }
    typename CFG::acc_t result() const { return acc; }
};

// The sizes conv2d derives from CFG, checked once.
template <class CFG>
struct hls_sim_conv2d_dims {
    static const int CG = CFG::C_IN / CFG::G;     // input channels per group
    static const int CO_G = CFG::C_OUT / CFG::G;  // output channels per group
    static const int NB = (CG + 15) / 16;         // blocks of 16 input channels per group

    static_assert(CFG::K >= 1 && CFG::K <= 7, "conv2d: kernel size K must be 1..7");
    static_assert(CFG::S >= 1 && CFG::S <= 4, "conv2d: stride S must be 1..4");
    static_assert(CFG::D >= 1 && CFG::D <= 4, "conv2d: dilation D must be 1..4");
    static_assert(CFG::P >= 0, "conv2d: padding P must be >= 0");
    static_assert(CFG::G >= 1 && CFG::C_IN % CFG::G == 0 && CFG::C_OUT % CFG::G == 0,
                  "conv2d: groups G must divide C_IN and C_OUT");
    static_assert(CFG::N_FACTOR == 1 || CFG::N_FACTOR == CFG::C_OUT,
                  "conv2d: N_FACTOR must be 1 or C_OUT");
    static_assert(CFG::H + 2 * CFG::P - CFG::D * (CFG::K - 1) - 1 >= 0 &&
                      CFG::W + 2 * CFG::P - CFG::D * (CFG::K - 1) - 1 >= 0,
                  "conv2d: the dilated kernel is larger than the padded input");
    static_assert(CFG::H_OUT == (CFG::H + 2 * CFG::P - CFG::D * (CFG::K - 1) - 1) / CFG::S + 1,
                  "conv2d: H_OUT must be (H + 2P - D(K-1) - 1) / S + 1");
    static_assert(CFG::W_OUT == (CFG::W + 2 * CFG::P - CFG::D * (CFG::K - 1) - 1) / CFG::S + 1,
                  "conv2d: W_OUT must be (W + 2P - D(K-1) - 1) / S + 1");
};

template <class CFG>
void conv2d(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
            typename CFG::out_t out[CFG::C_OUT][CFG::H_OUT][CFG::W_OUT],
            typename CFG::weight_t weight[CFG::C_OUT][CFG::C_IN / CFG::G][CFG::K][CFG::K],
            typename CFG::bias_t bias[CFG::C_OUT], typename CFG::factor_t factor[CFG::N_FACTOR]) {
    typedef typename CFG::in_t in_t;
    typedef typename CFG::weight_t weight_t;
    typedef hls_sim_conv2d_dims<CFG> dims;
    const int CG = dims::CG, CO_G = dims::CO_G, NB = dims::NB;
    const int K = CFG::K, S = CFG::S, P = CFG::P, D = CFG::D;
    // 16 channels of one pixel per engine step
#pragma HLS ARRAY_PARTITION variable=in cyclic factor=16 dim=1

CO:
    for (int co = 0; co < CFG::C_OUT; co++) {
        const int c0 = (co / CO_G) * CG;  // the first input channel of co's group

        // co's weights as the engine takes them: wbuf[b][kh][kw][k] is local input channel
        // 16b + k, zero beyond the group's channels (the padding of the last block).
        weight_t wbuf[NB][K][K][16];
#pragma HLS ARRAY_PARTITION variable=wbuf complete dim=4
    LOAD_B:
        for (int b = 0; b < NB; b++) {
        LOAD_KH:
            for (int kh = 0; kh < K; kh++) {
            LOAD_KW:
                for (int kw = 0; kw < K; kw++) {
#pragma HLS PIPELINE II=1
                LOAD_LANE:
                    for (int k = 0; k < 16; k++) {
                        const int ci = 16 * b + k;
                        wbuf[b][kh][kw][k] = ci < CG ? weight[co][ci][kh][kw] : weight_t(0);
                    }
                }
            }
        }

    OH:
        for (int oh = 0; oh < CFG::H_OUT; oh++) {
        OW:
            for (int ow = 0; ow < CFG::W_OUT; ow++) {
                hls_sim_accumulator<CFG, CFG::ACCUMULATE> acc;
                acc.reset();
            B:
                for (int b = 0; b < NB; b++) {
                KH:
                    for (int kh = 0; kh < K; kh++) {
                    KW:
                        for (int kw = 0; kw < K; kw++) {
#pragma HLS PIPELINE II=1
                            const int ih = oh * S - P + kh * D;
                            const int iw = ow * S - P + kw * D;
                            const bool inside = ih >= 0 && ih < CFG::H && iw >= 0 && iw < CFG::W;
                            // the 16 input channels of this step; zeros for padding and for
                            // the lanes beyond the group's channels
                            in_t x16[16];
#pragma HLS ARRAY_PARTITION variable=x16 complete
                        LANE:
                            for (int k = 0; k < 16; k++) {
                                const int ci = 16 * b + k;
                                x16[k] = (inside && ci < CG) ? in[c0 + ci][ih][iw] : in_t(0);
                            }
                            acc.add(wbuf[b][kh][kw], x16);
                        }
                    }
                }
                out[co][oh][ow] = epilogue<CFG>(acc.result(), bias[co],
                                                factor[CFG::N_FACTOR == 1 ? 0 : co]);
            }
        }
    }
}

#endif  // HLS_SIM_CONV2D_H
