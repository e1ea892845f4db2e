// seed_verbatim.cpp -- the two kernels of spec/seed_kernels.cpp pasted VERBATIM (only this
// header comment and the #include were added), to prove that they compile against
// kernels/hls_kernels.h with the default configuration. seed_equivalence.cpp compiles this file
// inside `namespace seed` and checks it against kernels/conv1x1.cpp and kernels/dw_conv3x3.cpp.
// Build with -I kernels.
#include "hls_kernels.h"

void conv1x1(ap_uint<8> bottom[16][34][66], ap_uint<8> top[16][34][66],
             ap_int<8> weight[16][16], ap_int<16> bias[16], ap_fixed<32,1> factor) {
    ap_int<32> mid_result = 0;
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
                top[coo][h][w] = relu(bias[coo] + qunat_dequant2(mid_result, factor));
            }
        }
    }
}

void DW_CONV_3x3(ap_uint<8> bottom[16][34][66], ap_uint<8> top[16][34][66],
                 ap_int<8> weight[16][3][3], ap_int<16> bias[16], ap_fixed<32,1> factor) {
    ap_int<32> mid_result = 0;
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
                top[co][h][w] = relu(bias[co] + qunat_dequant2(mid_result, factor));
            }
        }
    }
}
