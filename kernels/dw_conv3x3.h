// dw_conv3x3.h -- depthwise 3x3 convolution, 16 channels, over the padded 16x34x66 buffer.
// Writes top[c][h][w] for the interior h = 1..32, w = 1..64 (reading bottom's one-pixel halo);
// every other element of top is left untouched.
//
//   dw_conv3x3_layer<CFG>(bottom, top, weight, bias, factor)   any traits struct CFG (the
//                                                              eight types, RELU_CLIP,
//                                                              N_FACTOR, ACTIVATION)
//   DW_CONV_3x3(bottom, top, weight, bias, HLS_SIM_FACTOR_PARAM)  the seed's function, for the
//                                                              global configuration
//
// The template needs only hls_layer.h; HLS_SIM_NO_GLOBAL_CONFIG (defined before the include)
// leaves out hls_config.h and the global function, as in conv1x1.h.
#ifndef HLS_SIM_DW_CONV3X3_H
#define HLS_SIM_DW_CONV3X3_H

#include "hls_layer.h"

// The seed's DW_CONV_3x3 (spec/seed_kernels.cpp) on CFG's types: the same loops, index ranges
// and expressions. mid_result is the sum of the nine products in their natural ap_* types
// (left to right, each sum one bit wider), converted to acc_t only by the assignment; top gets
// the epilogue. factor holds one value (N_FACTOR == 1) or one per channel (N_FACTOR == 16).
template <class CFG>
void dw_conv3x3_layer(typename CFG::in_t bottom[16][34][66], typename CFG::out_t top[16][34][66],
                      typename CFG::weight_t weight[16][3][3], typename CFG::bias_t bias[16],
                      typename CFG::factor_t factor[CFG::N_FACTOR]) {
    static_assert(CFG::N_FACTOR == 1 || CFG::N_FACTOR == 16, "N_FACTOR must be 1 or 16");
    typename CFG::acc_t mid_result = 0;
    for (int co = 0; co < 16; co++) {
        for (int h = 1; h <= 32; h++) {
            for (int w = 1; w <= 64; w++) {
                mid_result = (weight[co][0][0] * bottom[co][h - 1][w - 1]) +
                             (weight[co][0][1] * bottom[co][h - 1][w]) +
                             (weight[co][0][2] * bottom[co][h - 1][w + 1]) +
                             (weight[co][1][0] * bottom[co][h][w - 1]) +
                             (weight[co][1][1] * bottom[co][h][w]) +
                             (weight[co][1][2] * bottom[co][h][w + 1]) +
                             (weight[co][2][0] * bottom[co][h + 1][w - 1]) +
                             (weight[co][2][1] * bottom[co][h + 1][w]) +
                             (weight[co][2][2] * bottom[co][h + 1][w + 1]);
                top[co][h][w] =
                    epilogue<CFG>(mid_result, bias[co], factor[CFG::N_FACTOR == 1 ? 0 : co]);
            }
        }
    }
}

#ifndef HLS_SIM_NO_GLOBAL_CONFIG
#include "hls_config.h"

// dw_conv3x3_layer<hls_sim_global_config>, with the seed's signature.
void DW_CONV_3x3(in_t bottom[16][34][66], out_t top[16][34][66],
                 weight_t weight[16][3][3], bias_t bias[16], HLS_SIM_FACTOR_PARAM);
#endif

#endif  // HLS_SIM_DW_CONV3X3_H
