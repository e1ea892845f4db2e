// net_golden_tb.cpp -- the hls-sim network testbench: replays a network's golden set
// (`hls-sim golden NET.yaml`) through the generated network top and compares every layer's
// output map, every bit of every element.
//
// The golden set holds what it is built with:
//
//   hls_sim_net.h        generated; one traits struct per layer (hls_sim_net::l<i>_<name>: the
//                        types and sizes of one kernel call, a tile) and the top's declaration
//   hls_sim_net_top.cpp  generated; the network top hls_sim_net_top: per layer, per channel
//                        group and tile, gather the window, call the kind's template of kernels/,
//                        scatter the tile into the layer's output map
//   hls_sim_net_tb.h     generated; the configuration id and the tensor tables: the fixed
//                        tensors (NTB_FIXED), the layers' maps (NTB_MAPS), the network output
//                        (NTB_OUTPUT_MAP) and NTB_CALL(), one call of the top
//   hls_sim_golden.txt   the index: format, set, function, configuration, vectors, layers, the
//                        element count of every tensor
//   NAME.bin             the weights, biases and factors of every layer, per channel group
//   input_K.bin, <layer>_out_K.bin, output_K.bin   image K: the network input, every layer's
//                        expected output map, the network's output
//
// Build (what hls-sim csim does: one translation unit, the top included):
//   g++ -std=c++14 -O1 -DHLS_SIM_NET_UNITY -I GOLDEN -I kernels -I <ap_types>
//       testbench/net_golden_tb.cpp -o net_golden_tb
// or with the top compiled on its own:
//   g++ -std=c++14 -O1 -I GOLDEN -I kernels -I <ap_types>
//       testbench/net_golden_tb.cpp GOLDEN/hls_sim_net_top.cpp -o net_golden_tb
// Run:  net_golden_tb [DIR]   DIR holds the .bin files and the index; default "." (the
//                             working folder)
//
// Before each call every map is set to its expected values with every bit inverted, so an
// element the top never writes is a mismatch. The layers read the top's own maps, so a
// difference in one layer carries into the layers after it: the first layer listed is where
// it starts.
//
// Timing (benchmarks/network.py): built with -DNTB_TIME_CALLS=N, the testbench calls the top
// N more times on vector 0 (each call writes the same maps), prints the best wall time of one
// call, then checks vector 0 as usual.
//
// Exit status: 0 every element of every map of every vector matches bit for bit (PASS); 1 at
// least one mismatch (FAIL; per layer and vector the number of mismatches and the first one:
// the index, the expected and the actual value); 2 the golden set cannot be used (a file
// missing or of the wrong size, a value that does not fit, an index for another network,
// configuration or tensor sizes, or an index whose vector count disagrees with the files).
#include "golden_io.h"
#include "hls_sim_net_tb.h"
#ifdef NTB_TIME_CALLS
#include <chrono>
#endif

#define NTB_FORMAT_VERSION 1

// ---- the data (static: maps are large for a stack) ------------------------------------------------
NTB_INPUT_TYPE ntb_input[NTB_INPUT_ELEMENTS];
#define NTB_DECLARE_FIXED(name, T, n) T ntb_##name[n];
NTB_FIXED(NTB_DECLARE_FIXED)
#define NTB_DECLARE_MAP(name, T, c, h, w, layer, kind) \
    T ntb_##name[(c) * (h) * (w)];                     \
    T ntb_expected_##name[(c) * (h) * (w)];
NTB_MAPS(NTB_DECLARE_MAP)
#define NTB_DECLARE_OUTPUT(name, T, c, h, w, layer, kind) T ntb_output_expected[(c) * (h) * (w)];
NTB_OUTPUT_MAP(NTB_DECLARE_OUTPUT)

namespace ntb {

long long g_checked = 0;
std::vector<std::string> g_differ;  // the layers that differ, in network order

int fail(const std::string& msg) {
    std::printf("net_golden_tb: ERROR: %s\n", msg.c_str());
    std::printf("net_golden_tb: FAIL (the golden set could not be used)\n");
    return 2;
}

// Compare a map the top wrote with its expected values: the number of mismatches; prints the
// first one (or, with verbose, the line of a map that matches).
template <class T>
long long check(long k, const std::string& what, const std::string& layer, const T* got,
                const T* want, int C, int H, int W, bool verbose) {
    const size_t n = size_t(C) * H * W;
    long long bad = 0;
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        if (gio::same_bits(got[i], want[i])) continue;
        if (bad == 0) first = i;
        bad++;
    }
    g_checked += (long long)n;
    if (bad) {
        const int c = int(first / (size_t(H) * W)), h = int(first / W % H), w = int(first % W);
        std::printf("  vector %ld: %s [%d][%d][%d]: %lld mismatch%s of %lu; the first at "
                    "[%d][%d][%d]: expected %s (%s), got %s (%s)\n",
                    k, what.c_str(), C, H, W, bad, bad == 1 ? "" : "es", (unsigned long)n, c, h,
                    w, want[first].to_string(10).c_str(), gio::hex_bits(want[first]).c_str(),
                    got[first].to_string(10).c_str(), gio::hex_bits(got[first]).c_str());
        bool seen = false;
        for (size_t j = 0; j < g_differ.size(); j++) seen = seen || g_differ[j] == layer;
        if (!seen) g_differ.push_back(layer);
    } else if (verbose) {
        std::printf("  vector %ld: %s [%d][%d][%d]: %lu elements, 0 mismatches\n", k,
                    what.c_str(), C, H, W, (unsigned long)n);
    }
    return bad;
}

}  // namespace ntb

int main(int argc, char** argv) {
    using namespace ntb;
    if (argc > 2) {
        std::printf("usage: %s [GOLDEN_DIR]   (default: the working folder)\n", argv[0]);
        return 2;
    }
    gio::Dir g;
    g.dir = argc == 2 ? argv[1] : "";
    std::string err;
    std::map<std::string, std::string> index;
    if (!gio::read_index(g.path("hls_sim_golden.txt"), index, err)) return fail(err);
    if (std::atoi(index["hls_sim_golden"].c_str()) != NTB_FORMAT_VERSION)
        return fail(g.path("hls_sim_golden.txt") + ": not a golden set index of format " +
                    std::to_string(NTB_FORMAT_VERSION));
    if (index["set"] != "network")
        return fail("the golden set is not a network's (set " +
                    (index["set"].empty() ? std::string("layer") : index["set"]) +
                    "); this testbench was built for the network top " HLS_SIM_NET_FUNCTION);
    if (index["function"] != HLS_SIM_NET_FUNCTION)
        return fail("the golden set is for the top " + index["function"] +
                    ", this testbench was built for " HLS_SIM_NET_FUNCTION);
    if (index["config"] != HLS_SIM_NET_CONFIG_ID)
        return fail("the golden set has configuration " + index["config"] + ", this testbench "
                    "was built for " HLS_SIM_NET_CONFIG_ID " (rebuild it with the set's headers)");
    if (std::atol(index["layers"].c_str()) != HLS_SIM_NET_LAYERS)
        return fail("the golden set's index gives " + index["layers"] + " layer(s), this "
                    "testbench was built for " + std::to_string(HLS_SIM_NET_LAYERS));
    const long vectors = std::atol(index["vectors"].c_str());
    if (vectors < 1) return fail(g.path("hls_sim_golden.txt") + ": missing or bad 'vectors'");
    // The index's vector count, checked against the files: a set of N vectors has no
    // input_N.bin (an index edited to a smaller count would silently skip vectors).
    if (gio::exists(g.path(gio::numbered("input", vectors))))
        return fail("the index (hls_sim_golden.txt) gives " + std::to_string(vectors) +
                    " vector(s), but " + g.path(gio::numbered("input", vectors)) +
                    " exists: the index does not match the set's files (check the set with "
                    "hls-sim verify, or write it again)");
    bool ok = gio::check_count(index, "input", NTB_INPUT_ELEMENTS, err);
#define NTB_COUNT_OUTPUT(name, T, c, h, w, layer, kind) \
    ok = ok && gio::check_count(index, "output", size_t(c) * (h) * (w), err);
    NTB_OUTPUT_MAP(NTB_COUNT_OUTPUT)
#define NTB_COUNT_MAP(name, T, c, h, w, layer, kind) \
    ok = ok && gio::check_count(index, #name, size_t(c) * (h) * (w), err);
    NTB_MAPS(NTB_COUNT_MAP)
#define NTB_COUNT_FIXED(name, T, n) ok = ok && gio::check_count(index, #name, n, err);
    NTB_FIXED(NTB_COUNT_FIXED)
#define NTB_LOAD_FIXED(name, T, n) ok = ok && gio::load(g.path(#name ".bin"), ntb_##name, n, err);
    NTB_FIXED(NTB_LOAD_FIXED)
    if (!ok) return fail(err);

    std::printf("net_golden_tb: network %s, top %s, configuration %s, %d layer(s), %ld vector(s) "
                "from %s\n", HLS_SIM_NET_NAME[0] ? HLS_SIM_NET_NAME : "(no name)",
                HLS_SIM_NET_FUNCTION, HLS_SIM_NET_CONFIG_ID, HLS_SIM_NET_LAYERS, vectors,
                g.dir.empty() ? "the working folder" : g.dir.c_str());
    const bool verbose = vectors <= 4;
    long long mismatches = 0;
    long bad_vectors = 0;
    for (long k = 0; k < vectors; k++) {
        if (!gio::load(g.path(gio::numbered("input", k)), ntb_input, NTB_INPUT_ELEMENTS, err))
            return fail(err);
#define NTB_LOAD_MAP(name, T, c, h, w, layer, kind)                                              \
    ok = ok && gio::load(g.path(gio::numbered(#name, k)), ntb_expected_##name,                   \
                         size_t(c) * (h) * (w), err);                                             \
    for (size_t i = 0; ok && i < size_t(c) * (h) * (w); i++)                                      \
        gio::invert_bits(ntb_##name[i], ntb_expected_##name[i]);
        NTB_MAPS(NTB_LOAD_MAP)
#define NTB_LOAD_OUTPUT(name, T, c, h, w, layer, kind)                                           \
    ok = ok && gio::load(g.path(gio::numbered("output", k)), ntb_output_expected,                \
                         size_t(c) * (h) * (w), err);
        NTB_OUTPUT_MAP(NTB_LOAD_OUTPUT)
        if (!ok) return fail(err);

        NTB_CALL();
#ifdef NTB_TIME_CALLS
        if (k == 0) {
            double best = 1e300;
            for (int r = 0; r < NTB_TIME_CALLS; r++) {
                const auto t0 = std::chrono::steady_clock::now();
                NTB_CALL();
                const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                best = t < best ? t : best;
            }
            std::printf("net_golden_tb: time of one call of the top: best %.6f s of %d\n", best,
                        NTB_TIME_CALLS);
        }
#endif

        long long bad = 0;
#define NTB_CHECK_MAP(name, T, c, h, w, layer, kind)                                             \
    bad += check(k, "layer " layer " (" kind ")", layer, ntb_##name, ntb_expected_##name, c, h, w, \
                 verbose);
        NTB_MAPS(NTB_CHECK_MAP)
#define NTB_CHECK_OUTPUT(name, T, c, h, w, layer, kind)                                          \
    bad += check(k, "output (layer " layer ")", layer, ntb_##name, ntb_output_expected, c, h, w,  \
                 verbose);
        NTB_OUTPUT_MAP(NTB_CHECK_OUTPUT)
        mismatches += bad;
        if (bad) bad_vectors++;
    }
    if (mismatches == 0) {
        std::printf("net_golden_tb: PASS: %ld vector(s), %d layer output(s) and the network "
                    "output each, %lld elements checked bit for bit, 0 mismatches\n",
                    vectors, HLS_SIM_NET_LAYERS, g_checked);
        return 0;
    }
    std::string layers;
    for (size_t j = 0; j < g_differ.size(); j++) layers += (j ? ", " : "") + g_differ[j];
    std::printf("net_golden_tb: FAIL: %lld of %lld elements differ, in %ld of %ld vector(s); "
                "layer(s) that differ: %s\n", mismatches, g_checked, bad_vectors, vectors,
                layers.c_str());
    return 1;
}

#ifdef HLS_SIM_NET_UNITY
// One translation unit: the top compiled into the testbench (never in Vitis HLS, which
// compiles the design source hls_sim_net_top.cpp on its own).
#include "hls_sim_net_top.cpp"
#endif
