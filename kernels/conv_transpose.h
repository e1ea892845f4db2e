// conv_transpose.h -- PyTorch ConvTranspose2d as the accelerator computes it (docs/kinds.md,
// "conv_transpose"): zero insertion and padding, then conv2d with the flipped weight.
//
//   template <class CFG>
//   void conv_transpose(in_t in[C_IN][H][W], out_t out[C_OUT][H_OUT][W_OUT],
//                       weight_t weight[C_IN][C_OUT / G][K][K], bias_t bias[C_OUT],
//                       factor_t factor[N_FACTOR]);
//
// weight in PyTorch's layout; every type and size from the traits struct CFG: kernel K, stride
// S, padding P, dilation D, groups G, OUT_PAD (output_padding),
// H_OUT = (H - 1)S - 2P + D(K-1) + OUT_PAD + 1 (the same for W). Writes all of out:
//
//   1. xz[c][Q + i*S][Q + j*S] = in[c][i][j], zeros elsewhere, Q = D(K-1) - P on every side
//      and OUT_PAD more at the bottom and the right;
//   2. wf[co][ci][kh][kw] = weight[g*Cg + ci][co mod (C_OUT/G)][K-1-kh][K-1-kw]
//      (g = co / (C_OUT/G), Cg = C_IN/G): the kernel flipped by 180 degrees, channel axes
//      swapped;
//   3. out = conv2d<conv_transpose_core<CFG>>(xz, wf): stride 1, padding 0, dilation D,
//      groups G, CFG's accumulation mode and epilogue.
//
// Needs only conv2d.h and hls_layer.h (no global typedef). xz and wf are static buffers (one
// pair per instantiated layer; every element is rewritten on every call).
#ifndef HLS_SIM_CONV_TRANSPOSE_H
#define HLS_SIM_CONV_TRANSPOSE_H

#include "conv2d.h"
#include "hls_layer.h"

// The traits of step 3: CFG with the input replaced by the zero-inserted, padded xz, stride 1
// and padding 0. The redeclared members shadow CFG's in everything conv2d reads (CORE::H is
// xz's height; CFG::H, written out, is still the original input's); H_OUT, W_OUT, K, D, G, the
// channel counts, the types and the epilogue members are CFG's own.
template <class CFG>
struct conv_transpose_core : CFG {
    static const int Q = CFG::D * (CFG::K - 1) - CFG::P;  // zero padding on every side of xz
    static const int H = (CFG::H - 1) * CFG::S + 1 + 2 * Q + CFG::OUT_PAD;
    static const int W = (CFG::W - 1) * CFG::S + 1 + 2 * Q + CFG::OUT_PAD;
    static const int S = 1;
    static const int P = 0;
    static const int OUT_PAD = 0;

    static_assert(CFG::K >= 1 && CFG::K <= 7, "conv_transpose: kernel size K must be 1..7");
    static_assert(CFG::S >= 1 && CFG::S <= 4, "conv_transpose: stride S must be 1..4");
    static_assert(CFG::D >= 1 && CFG::D <= 4, "conv_transpose: dilation D must be 1..4");
    static_assert(CFG::P >= 0, "conv_transpose: padding P must be >= 0");
    static_assert(Q >= 0, "conv_transpose: padding P above D(K-1) (a negative Q: padding the "
                          "zero-insertion hardware cannot do)");
    static_assert(CFG::OUT_PAD >= 0 && CFG::OUT_PAD < (CFG::S > CFG::D ? CFG::S : CFG::D),
                  "conv_transpose: OUT_PAD must be below max(S, D)");
    static_assert(CFG::G >= 1 && CFG::C_IN % CFG::G == 0 && CFG::C_OUT % CFG::G == 0,
                  "conv_transpose: groups G must divide C_IN and C_OUT");
    static_assert(CFG::H_OUT == (CFG::H - 1) * CFG::S - 2 * CFG::P + CFG::D * (CFG::K - 1) +
                                    CFG::OUT_PAD + 1,
                  "conv_transpose: H_OUT must be (H - 1)S - 2P + D(K-1) + OUT_PAD + 1");
    static_assert(CFG::W_OUT == (CFG::W - 1) * CFG::S - 2 * CFG::P + CFG::D * (CFG::K - 1) +
                                    CFG::OUT_PAD + 1,
                  "conv_transpose: W_OUT must be (W - 1)S - 2P + D(K-1) + OUT_PAD + 1");
};

template <class CFG>
void conv_transpose(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
                    typename CFG::out_t out[CFG::C_OUT][CFG::H_OUT][CFG::W_OUT],
                    typename CFG::weight_t weight[CFG::C_IN][CFG::C_OUT / CFG::G][CFG::K][CFG::K],
                    typename CFG::bias_t bias[CFG::C_OUT],
                    typename CFG::factor_t factor[CFG::N_FACTOR]) {
    typedef conv_transpose_core<CFG> CORE;
    typedef typename CFG::in_t in_t;
    typedef typename CFG::weight_t weight_t;
    const int Q = CORE::Q, S = CFG::S, K = CFG::K;
    const int CG = CFG::C_IN / CFG::G, CO_G = CFG::C_OUT / CFG::G;

    static in_t xz[CFG::C_IN][CORE::H][CORE::W];
    static weight_t wf[CFG::C_OUT][CFG::C_IN / CFG::G][CFG::K][CFG::K];

    // 1. zero insertion and padding: input pixel (i, j) lands on (Q + i*S, Q + j*S)
XZ_C:
    for (int c = 0; c < CFG::C_IN; c++) {
    XZ_H:
        for (int zh = 0; zh < CORE::H; zh++) {
        XZ_W:
            for (int zw = 0; zw < CORE::W; zw++) {
#pragma HLS PIPELINE II=1
                const int i = zh - Q, j = zw - Q;  // offsets from the first input pixel
                const bool hit = i >= 0 && j >= 0 && i % S == 0 && j % S == 0 &&
                                 i / S < CFG::H && j / S < CFG::W;
                xz[c][zh][zw] = hit ? in[c][i / S][j / S] : in_t(0);
            }
        }
    }

    // 2. the flipped, channel-swapped weight
WF_CO:
    for (int co = 0; co < CFG::C_OUT; co++) {
        const int g = co / CO_G;
    WF_CI:
        for (int ci = 0; ci < CG; ci++) {
        WF_KH:
            for (int kh = 0; kh < K; kh++) {
            WF_KW:
                for (int kw = 0; kw < K; kw++) {
#pragma HLS PIPELINE II=1
                    wf[co][ci][kh][kw] = weight[g * CG + ci][co % CO_G][K - 1 - kh][K - 1 - kw];
                }
            }
        }
    }

    // 3. stride 1, padding 0 convolution of xz
    conv2d<CORE>(xz, out, wf, bias, factor);
}

#endif  // HLS_SIM_CONV_TRANSPOSE_H
