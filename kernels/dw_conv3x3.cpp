// dw_conv3x3.cpp -- the seed's DW_CONV_3x3 (spec/seed_kernels.cpp) for the global
// configuration (hls_config.h): dw_conv3x3_layer<hls_sim_global_config> (dw_conv3x3.h), whose
// loops and expressions are the seed's; only the types come from hls_config.h and the factor
// may be per channel.
#include "dw_conv3x3.h"
#include "hls_kernels.h"

void DW_CONV_3x3(in_t bottom[16][34][66], out_t top[16][34][66],
                 weight_t weight[16][3][3], bias_t bias[16], HLS_SIM_FACTOR_PARAM) {
#if HLS_SIM_PER_CHANNEL_FACTOR
    dw_conv3x3_layer<hls_sim_global_config>(bottom, top, weight, bias, factor);
#else
    factor_t factors[1] = {factor};
    dw_conv3x3_layer<hls_sim_global_config>(bottom, top, weight, bias, factors);
#endif
}
