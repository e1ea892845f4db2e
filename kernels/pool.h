// pool.h -- max and average pooling (docs/kinds.md, "max_pool", "avg_pool"): PyTorch MaxPool2d
// and AvgPool2d with ceil_mode off.
//
//   template <class CFG>
//   void max_pool(in_t in[C_IN][H][W], out_t out[C_IN][H_OUT][W_OUT]);
//   template <class CFG>
//   void avg_pool(in_t in[C_IN][H][W], out_t out[C_IN][H_OUT][W_OUT]);
//
// window K x K (CFG::K, 1..4), stride S (CFG::S, 1..4), padding P (CFG::P, 0..K/2) on every
// side, H_OUT = (H + 2P - K) / S + 1 (floor; the same for W). The window of output (c, oh, ow)
// covers in[c][oh*S - P + kh][ow*S - P + kw], kh, kw = 0..K-1; a tap outside the input is
// skipped (it never wins a max, as PyTorch's -inf padding; it adds nothing to a sum, as zero
// padding). With P <= K/2 every window holds at least one tap inside the input. Writes all of
// out.
//
// max_pool (reads in_t, out_t; CFG::RELU):
//
//   in_t m = max of in[c][ih][iw] over the taps inside     (exact: in_t comparisons)
//   HLS_SIM_POOL_RELU_BEFORE   each tap v = v < 0 ? 0 : v before the max (Relu_Max_Pooling)
//   HLS_SIM_POOL_RELU_AFTER    m = m < 0 ? 0 : m after it
//   out[c][oh][ow] = out_t(m)                              (the only conversion)
//
// Both relu orders give max(0, max(x)) exactly (relu is monotonic), so they agree bit for bit.
//
// avg_pool (reads in_t, acc_t, factor_t, qd_t, out_t; CFG::COUNT_INCLUDE_PAD):
//
//   acc_t sum = 0;
//   for every tap inside the input: sum += in[c][ih][iw];  (acc_t's +=, per add)
//   const factor_t recip = factor_t(1.0 / n);              n = K*K (COUNT_INCLUDE_PAD), else
//                                                          the taps inside (smaller at borders)
//   qd_t mean = sum * recip;                               (natural product, one conversion:
//                                                          qd_t's quantization mode rounds)
//   out[c][oh][ow] = out_t(mean);
//
// The reciprocals are a table recip[n] = factor_t(1.0 / n), n = 1..K*K, filled once by an
// unrolled loop (constants after synthesis). Needs only hls_layer.h (no global typedef).
// Synthesizable: static sizes, no recursion, no dynamic allocation; one output per pipelined
// iteration (II=1), its K*K taps unrolled.
#ifndef HLS_SIM_POOL_H
#define HLS_SIM_POOL_H

#include "hls_layer.h"

// CFG::RELU of max_pool.
#define HLS_SIM_POOL_RELU_NONE 0
#define HLS_SIM_POOL_RELU_BEFORE 1  // relu on each input, then the max
#define HLS_SIM_POOL_RELU_AFTER 2   // the max, then relu

// The shape rules both kinds share, checked at compile time.
template <class CFG>
struct hls_sim_pool_shape {
    static_assert(CFG::K >= 1 && CFG::K <= 4, "pool: kernel size K must be 1..4");
    static_assert(CFG::S >= 1 && CFG::S <= 4, "pool: stride S must be 1..4");
    static_assert(CFG::P >= 0 && 2 * CFG::P <= CFG::K, "pool: padding P must be 0..K/2");
    static_assert(CFG::C_OUT == CFG::C_IN, "pool: C_OUT must equal C_IN");
    static_assert(CFG::H_OUT == (CFG::H + 2 * CFG::P - CFG::K) / CFG::S + 1 &&
                      CFG::W_OUT == (CFG::W + 2 * CFG::P - CFG::K) / CFG::S + 1,
                  "pool: H_OUT, W_OUT must be (H + 2P - K) / S + 1, (W + 2P - K) / S + 1");
    static_assert(CFG::H + 2 * CFG::P >= CFG::K && CFG::W + 2 * CFG::P >= CFG::K,
                  "pool: the window must fit the padded input");
    static const bool ok = true;
};

template <class CFG>
void max_pool(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
              typename CFG::out_t out[CFG::C_IN][CFG::H_OUT][CFG::W_OUT]) {
    typedef typename CFG::in_t in_t;
    typedef typename CFG::out_t out_t;
    static_assert(hls_sim_pool_shape<CFG>::ok, "pool: bad shape");
    static_assert(CFG::RELU == HLS_SIM_POOL_RELU_NONE || CFG::RELU == HLS_SIM_POOL_RELU_BEFORE ||
                      CFG::RELU == HLS_SIM_POOL_RELU_AFTER,
                  "max_pool: RELU must be HLS_SIM_POOL_RELU_NONE, _BEFORE or _AFTER");
    const in_t zero = 0;  // compared as in_t: no wider comparison type

C:
    for (int c = 0; c < CFG::C_IN; c++) {
    OH:
        for (int oh = 0; oh < CFG::H_OUT; oh++) {
        OW:
            for (int ow = 0; ow < CFG::W_OUT; ow++) {
#pragma HLS PIPELINE II=1
                in_t m = 0;
                bool any = false;  // a tap inside seen yet (padding never wins)
            KH:
                for (int kh = 0; kh < CFG::K; kh++) {
#pragma HLS UNROLL
                KW:
                    for (int kw = 0; kw < CFG::K; kw++) {
#pragma HLS UNROLL
                        const int ih = oh * CFG::S - CFG::P + kh;
                        const int iw = ow * CFG::S - CFG::P + kw;
                        if (ih >= 0 && ih < CFG::H && iw >= 0 && iw < CFG::W) {
                            in_t v = in[c][ih][iw];
                            if (CFG::RELU == HLS_SIM_POOL_RELU_BEFORE && v < zero) v = zero;
                            if (!any || v > m) m = v;
                            any = true;
                        }
                    }
                }
                if (CFG::RELU == HLS_SIM_POOL_RELU_AFTER && m < zero) m = zero;
                out[c][oh][ow] = out_t(m);
            }
        }
    }
}

template <class CFG>
void avg_pool(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
              typename CFG::out_t out[CFG::C_IN][CFG::H_OUT][CFG::W_OUT]) {
    typedef typename CFG::acc_t acc_t;
    typedef typename CFG::factor_t factor_t;
    typedef typename CFG::qd_t qd_t;
    typedef typename CFG::out_t out_t;
    static_assert(hls_sim_pool_shape<CFG>::ok, "pool: bad shape");
    static_assert(CFG::COUNT_INCLUDE_PAD == 0 || CFG::COUNT_INCLUDE_PAD == 1,
                  "avg_pool: COUNT_INCLUDE_PAD must be 0 or 1");
    const int KK = CFG::K * CFG::K;

    factor_t recip[CFG::K * CFG::K + 1];  // recip[n] = factor_t(1.0 / n); recip[0] unused
#pragma HLS ARRAY_PARTITION variable=recip complete
    recip[0] = 0;
RECIP:
    for (int n = 1; n <= KK; n++) {
#pragma HLS UNROLL
        recip[n] = factor_t(1.0 / n);
    }

C:
    for (int c = 0; c < CFG::C_IN; c++) {
    OH:
        for (int oh = 0; oh < CFG::H_OUT; oh++) {
        OW:
            for (int ow = 0; ow < CFG::W_OUT; ow++) {
#pragma HLS PIPELINE II=1
                acc_t sum = 0;
                int inside = 0;  // the taps inside the input
            KH:
                for (int kh = 0; kh < CFG::K; kh++) {
#pragma HLS UNROLL
                KW:
                    for (int kw = 0; kw < CFG::K; kw++) {
#pragma HLS UNROLL
                        const int ih = oh * CFG::S - CFG::P + kh;
                        const int iw = ow * CFG::S - CFG::P + kw;
                        if (ih >= 0 && ih < CFG::H && iw >= 0 && iw < CFG::W) {
                            sum += in[c][ih][iw];
                            inside++;
                        }
                    }
                }
                const int n = CFG::COUNT_INCLUDE_PAD ? KK : inside;
                qd_t mean = sum * recip[n];
                out[c][oh][ow] = out_t(mean);
            }
        }
    }
}

#endif  // HLS_SIM_POOL_H
