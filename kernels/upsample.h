// upsample.h -- the upsampling data mover (docs/kinds.md, "upsample"):
//
//   template <class CFG>
//   void upsample(in_t in[C_IN][H][W], out_t out[C_IN][H_OUT][W_OUT]);
//
// scale F (CFG::F), a zero border of HALO pixels (CFG::HALO, 0 or 1), H_OUT = H*F + 2*HALO
// (the same for W), mode CFG::MODE:
//
//   HLS_SIM_UP_NEAREST  out[c][HALO + i][HALO + j] = out_t(in[c][i/F][j/F])
//   HLS_SIM_UP_ZEROS    the same where i%F == 0 && j%F == 0, out_t(0) elsewhere (zero insertion
//                       with the trailing zeros of a deconvolution's output_padding = F-1)
//
// and out_t(0) on the halo border. Writes all of out. Reads only in_t and out_t from CFG (no
// weight types, no epilogue); needs only hls_layer.h.
#ifndef HLS_SIM_UPSAMPLE_H
#define HLS_SIM_UPSAMPLE_H

#include "hls_layer.h"

template <class CFG>
void upsample(typename CFG::in_t in[CFG::C_IN][CFG::H][CFG::W],
              typename CFG::out_t out[CFG::C_IN][CFG::H_OUT][CFG::W_OUT]) {
    typedef typename CFG::out_t out_t;
    static_assert(CFG::F >= 2 && CFG::F <= 4, "upsample: scale F must be 2..4");
    static_assert(CFG::HALO == 0 || CFG::HALO == 1, "upsample: HALO must be 0 or 1");
    static_assert(CFG::MODE == HLS_SIM_UP_NEAREST || CFG::MODE == HLS_SIM_UP_ZEROS,
                  "upsample: MODE must be HLS_SIM_UP_NEAREST or HLS_SIM_UP_ZEROS");
    static_assert(CFG::H_OUT == CFG::H * CFG::F + 2 * CFG::HALO &&
                      CFG::W_OUT == CFG::W * CFG::F + 2 * CFG::HALO,
                  "upsample: H_OUT, W_OUT must be H*F + 2*HALO, W*F + 2*HALO");
    const int F = CFG::F, HALO = CFG::HALO;

C:
    for (int c = 0; c < CFG::C_IN; c++) {
    OH:
        for (int oh = 0; oh < CFG::H_OUT; oh++) {
        OW:
            for (int ow = 0; ow < CFG::W_OUT; ow++) {
#pragma HLS PIPELINE II=1
                const int i = oh - HALO, j = ow - HALO;  // position in the upsampled image
                const bool inside = i >= 0 && i < CFG::H * F && j >= 0 && j < CFG::W * F;
                const bool take =
                    inside && (CFG::MODE == HLS_SIM_UP_NEAREST || (i % F == 0 && j % F == 0));
                out[c][oh][ow] = take ? out_t(in[c][i / F][j / F]) : out_t(0);
            }
        }
    }
}

#endif  // HLS_SIM_UPSAMPLE_H
