// conv1x1.cpp -- the seed's conv1x1 (spec/seed_kernels.cpp), loops and expressions kept line
// for line; only the types come from hls_config.h and the factor may be per output channel.
#include "conv1x1.h"
#include "hls_kernels.h"

void conv1x1(in_t bottom[16][34][66], out_t top[16][34][66],
             weight_t weight[16][16], bias_t bias[16], HLS_SIM_FACTOR_PARAM) {
    acc_t mid_result = 0;
    for (int h = 0; h < 32; h++) {
        for (int w = 0; w < 64; w++) {
            for (int coo = 0; coo < 16; coo++) {  // output channel
                mid_result = compute_engine_16(
                    weight[coo][0], bottom[0][h][w], weight[coo][1], bottom[1][h][w],
                    weight[coo][2], bottom[2][h][w], weight[coo][3], bottom[3][h][w],
                    weight[coo][4], bottom[4][h][w], weight[coo][5], bottom[5][h][w],
                    weight[coo][6], bottom[6][h][w], weight[coo][7], bottom[7][h][w],
                    weight[coo][8], bottom[8][h][w], weight[coo][9], bottom[9][h][w],
                    weight[coo][10], bottom[10][h][w], weight[coo][11], bottom[11][h][w],
                    weight[coo][12], bottom[12][h][w], weight[coo][13], bottom[13][h][w],
                    weight[coo][14], bottom[14][h][w], weight[coo][15], bottom[15][h][w]);
                top[coo][h][w] = relu(bias[coo] + qunat_dequant2(mid_result, HLS_SIM_FACTOR(coo)));
            }
        }
    }
}
