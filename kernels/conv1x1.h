// conv1x1.h -- pointwise 1x1 convolution, 16 -> 16 channels, over the padded 16x34x66 buffer.
// Writes top[c][h][w] for h = 0..31, w = 0..63; every other element of top is left untouched.
#ifndef HLS_SIM_CONV1X1_H
#define HLS_SIM_CONV1X1_H

#include "hls_config.h"

void conv1x1(in_t bottom[16][34][66], out_t top[16][34][66],
             weight_t weight[16][16], bias_t bias[16], HLS_SIM_FACTOR_PARAM);

#endif  // HLS_SIM_CONV1X1_H
