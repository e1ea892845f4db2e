// conv1x1.h -- pointwise 1x1 convolution, 16 -> 16 channels, over the padded 16x34x66 buffer.
// Writes top[c][h][w] for h = 0..31, w = 0..63; every other element of top is left untouched.
//
//   conv1x1_layer<CFG>(bottom, top, weight, bias, factor)   any traits struct CFG (the eight
//                                                           types, RELU_CLIP, N_FACTOR,
//                                                           ACTIVATION; docs/kinds.md)
//   conv1x1(bottom, top, weight, bias, HLS_SIM_FACTOR_PARAM)  the seed's function, for the
//                                                           global configuration (hls_config.h)
//
// The template needs only hls_layer.h. Define HLS_SIM_NO_GLOBAL_CONFIG before including this
// header to get the template alone (no hls_config.h, no global typedefs), e.g. in a
// translation unit of generated traits structs.
#ifndef HLS_SIM_CONV1X1_H
#define HLS_SIM_CONV1X1_H

#include "hls_layer.h"

// The seed's conv1x1 (spec/seed_kernels.cpp) on CFG's types: the same loops, index ranges and
// expressions. mid_result is the exact balanced-tree sum of the 16 products converted once to
// acc_t (engine_16, the seed's compute_engine_16); top gets the epilogue (the seed's
// relu(bias[coo] + qunat_dequant2(mid_result, factor))). factor holds one value (N_FACTOR == 1)
// or one per output channel (N_FACTOR == 16).
template <class CFG>
void conv1x1_layer(typename CFG::in_t bottom[16][34][66], typename CFG::out_t top[16][34][66],
                   typename CFG::weight_t weight[16][16], typename CFG::bias_t bias[16],
                   typename CFG::factor_t factor[CFG::N_FACTOR]) {
    static_assert(CFG::N_FACTOR == 1 || CFG::N_FACTOR == 16, "N_FACTOR must be 1 or 16");
    typename CFG::acc_t mid_result = 0;
    for (int h = 0; h < 32; h++) {
        for (int w = 0; w < 64; w++) {
            // the 16 input channels of pixel (h, w): the engine's second operand for every coo
            typename CFG::in_t pixel[16];
            for (int ci = 0; ci < 16; ci++) pixel[ci] = bottom[ci][h][w];
            for (int coo = 0; coo < 16; coo++) {  // output channel
                mid_result = engine_16<CFG>(weight[coo], pixel);
                top[coo][h][w] =
                    epilogue<CFG>(mid_result, bias[coo], factor[CFG::N_FACTOR == 1 ? 0 : coo]);
            }
        }
    }
}

#ifndef HLS_SIM_NO_GLOBAL_CONFIG
#include "hls_config.h"

// conv1x1_layer<hls_sim_global_config>, with the seed's signature.
void conv1x1(in_t bottom[16][34][66], out_t top[16][34][66],
             weight_t weight[16][16], bias_t bias[16], HLS_SIM_FACTOR_PARAM);
#endif

#endif  // HLS_SIM_CONV1X1_H
