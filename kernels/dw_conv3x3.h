// dw_conv3x3.h -- depthwise 3x3 convolution, 16 channels, over the padded 16x34x66 buffer.
// Writes top[c][h][w] for the interior h = 1..32, w = 1..64 (reading bottom's one-pixel halo);
// every other element of top is left untouched.
#ifndef HLS_SIM_DW_CONV3X3_H
#define HLS_SIM_DW_CONV3X3_H

#include "hls_config.h"

void DW_CONV_3x3(in_t bottom[16][34][66], out_t top[16][34][66],
                 weight_t weight[16][3][3], bias_t bias[16], HLS_SIM_FACTOR_PARAM);

#endif  // HLS_SIM_DW_CONV3X3_H
