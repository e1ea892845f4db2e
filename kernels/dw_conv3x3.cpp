// dw_conv3x3.cpp -- the seed's DW_CONV_3x3 (spec/seed_kernels.cpp), loops and expressions kept
// line for line; only the types come from hls_config.h and the factor may be per channel.
// mid_result is the sum of nine products in their natural ap_* types (left to right, each sum
// one bit wider), converted to acc_t only by the assignment.
#include "dw_conv3x3.h"
#include "hls_kernels.h"

void DW_CONV_3x3(in_t bottom[16][34][66], out_t top[16][34][66],
                 weight_t weight[16][3][3], bias_t bias[16], HLS_SIM_FACTOR_PARAM) {
    acc_t mid_result = 0;
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
                top[co][h][w] = relu(bias[co] + qunat_dequant2(mid_result, HLS_SIM_FACTOR(co)));
            }
        }
    }
}
