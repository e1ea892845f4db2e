// conv1x1.cpp -- the seed's conv1x1 (spec/seed_kernels.cpp) for the global configuration
// (hls_config.h): conv1x1_layer<hls_sim_global_config> (conv1x1.h), whose loops and
// expressions are the seed's; only the types come from hls_config.h and the factor may be per
// output channel.
#include "conv1x1.h"
#include "hls_kernels.h"

void conv1x1(in_t bottom[16][34][66], out_t top[16][34][66],
             weight_t weight[16][16], bias_t bias[16], HLS_SIM_FACTOR_PARAM) {
#if HLS_SIM_PER_CHANNEL_FACTOR
    conv1x1_layer<hls_sim_global_config>(bottom, top, weight, bias, factor);
#else
    factor_t factors[1] = {factor};
    conv1x1_layer<hls_sim_global_config>(bottom, top, weight, bias, factors);
#endif
}
