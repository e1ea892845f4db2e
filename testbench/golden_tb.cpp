// golden_tb.cpp -- the hls-sim golden testbench: replays a golden set (`hls-sim golden`) through
// the kernel of kernels/ and compares every bit of every output element.
//
// One testbench for everyone: the Python tests and `hls-sim csim` (g++), and Vitis HLS
// csim_design / cosim_design (testbench/vitis_hls.tcl). It needs nothing but the golden set:
//
//   hls_sim_golden.h    generated; defines HLS_SIM_CONFIG (-> hls_sim_config.h, the layer's
//                       types and switches) and which kernel to call. Found through -I GOLDEN.
//   hls_sim_kernel.cpp  generated; the kernel of kernels/ compiled for that configuration.
//   hls_sim_golden.txt  a plain-text index: format version, kernel, configuration id, number
//                       of vectors, number of factors.
//   weight.bin bias.bin factor.bin           the weight set
//   input_K.bin top_K.bin expected_K.bin     vector K: bottom, top before and top after the call
//
// Build (no -D needed; the flags hls-sim uses):
//   g++ -std=c++14 -O1 -I GOLDEN -I kernels -I <ap_types>
//       testbench/golden_tb.cpp GOLDEN/hls_sim_kernel.cpp -o golden_tb
// or as one translation unit (what hls-sim does: the headers are parsed once, ~40% faster):
//   g++ -std=c++14 -O1 -DHLS_SIM_GOLDEN_UNITY -I GOLDEN -I kernels -I <ap_types>
//       testbench/golden_tb.cpp -o golden_tb
// Run:  golden_tb [DIR]      DIR holds the .bin files and the index; default "." (the working
//                            folder, where Vitis HLS puts files added with add_files -tb).
//
// .bin files: raw stored integers in C (row-major) order, little-endian two's complement,
// 8 bytes per element for widths up to 64 (8 per started 64 bits beyond), sign-extended for
// signed types and zero-extended for unsigned ones. A value that does not fit its element type
// is refused (exit 2), never truncated.
//
// Exit status: 0 every element of every vector matches bit for bit (PASS); 1 at least one
// mismatch (FAIL, the first mismatches listed with their indices, expected and actual values);
// 2 the golden set cannot be used (a file missing or of the wrong size, a value that does not
// fit, an index for another kernel or configuration).
#include <stdint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "hls_sim_golden.h"
#include "hls_config.h"

#if defined(HLS_SIM_GOLDEN_CONV1X1) && !defined(HLS_SIM_GOLDEN_DW_CONV_3X3)
#include "conv1x1.h"
typedef weight_t gtb_weight_array[16][16];
#define GTB_WEIGHTS (16 * 16)
#define GTB_CALL(b, t, w, bs, f) conv1x1(b, t, w, bs, f)
#elif defined(HLS_SIM_GOLDEN_DW_CONV_3X3) && !defined(HLS_SIM_GOLDEN_CONV1X1)
#include "dw_conv3x3.h"
typedef weight_t gtb_weight_array[16][3][3];
#define GTB_WEIGHTS (16 * 3 * 3)
#define GTB_CALL(b, t, w, bs, f) DW_CONV_3x3(b, t, w, bs, f)
#else
#error "hls_sim_golden.h must select exactly one kernel (regenerate the golden set)"
#endif

#if HLS_SIM_PER_CHANNEL_FACTOR
#define GTB_FACTORS 16
#else
#define GTB_FACTORS 1
#endif

#define GTB_FORMAT_VERSION 1
#define GTB_SHOW 10  // mismatches listed in full

namespace gtb {

const int kC = 16, kH = 34, kW = 66;
const size_t kBuf = size_t(kC) * kH * kW;

// ---- one element <-> its bytes in a .bin file -------------------------------------------------
inline uint64_t word_at(const unsigned char* p) {
    uint64_t u = 0;
    for (int b = 7; b >= 0; b--) u = (u << 8) | p[b];
    return u;
}

// Set x's W bits from n = ceil(W/64) little-endian words; false if the bits above W are not the
// extension of bit W-1 (sign) or zeros (unsigned), i.e. the value does not fit the type.
template <int W, bool S, class T>
bool set_bits(T& x, const unsigned char* p) {
    const int n = (W + 63) / 64;
    const int used = W - 64 * (n - 1);  // bits of the last word that belong to the value
    if (used < 64) {
        const uint64_t last = word_at(p + 8 * (n - 1));
        const bool neg = S && ((last >> (used - 1)) & 1);
        const uint64_t ext = ~uint64_t(0) << used;
        if ((last & ext) != (neg ? ext : uint64_t(0))) return false;
    }
    for (int k = 0; k < n; k++) {
        const int lo = 64 * k, hi = (W - 1 < lo + 63) ? W - 1 : lo + 63;
        x.range(hi, lo) = ap_uint<64>((unsigned long long)word_at(p + 8 * k));
    }
    return true;
}

template <int W, bool S, class T>
void get_bits(const T& x, unsigned char* p) {
    const int n = (W + 63) / 64;
    const ap_uint<W> bits = x.range(W - 1, 0);
    const bool neg = S && bits[W - 1];
    for (int k = 0; k < n; k++) {
        const int lo = 64 * k, hi = (W - 1 < lo + 63) ? W - 1 : lo + 63;
        uint64_t u = ap_uint<64>(bits.range(hi, lo)).to_uint64();
        if (neg && hi - lo + 1 < 64) u |= ~uint64_t(0) << (hi - lo + 1);
        for (int b = 0; b < 8; b++) p[8 * k + b] = (unsigned char)((u >> (8 * b)) & 0xff);
    }
}

template <int W, bool S>
bool set_raw(ap_int_base<W, S>& x, const unsigned char* p) { return set_bits<W, S>(x, p); }
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
bool set_raw(ap_fixed_base<W, I, S, Q, O, N>& x, const unsigned char* p) {
    return set_bits<W, S>(x, p);
}
template <int W, bool S>
void get_raw(const ap_int_base<W, S>& x, unsigned char* p) { get_bits<W, S>(x, p); }
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
void get_raw(const ap_fixed_base<W, I, S, Q, O, N>& x, unsigned char* p) {
    get_bits<W, S>(x, p);
}

template <class T>
struct elem {
    static const int width = T::width;
    static const int bytes = 8 * ((T::width + 63) / 64);
};

// The W-bit pattern in hex: 0x and ceil(W/4) lowercase digits (as the .dat files' hex).
template <class T>
std::string hex_bits(const T& x) {
    const int W = elem<T>::width;
    std::vector<unsigned char> b(elem<T>::bytes);
    get_raw(x, &b[0]);
    std::string s = "0x";
    for (int d = (W + 3) / 4 - 1; d >= 0; d--) {
        const int bit = 4 * d;
        int nib = (b[bit / 8] >> (bit % 8)) & 0xf;
        if (bit + 4 > W) nib &= (1 << (W - bit)) - 1;
        s += "0123456789abcdef"[nib];
    }
    return s;
}

// ---- files --------------------------------------------------------------------------------------
std::string g_dir;  // the golden set's folder ("" = the working folder)

std::string path_of(const std::string& name) { return g_dir.empty() ? name : g_dir + "/" + name; }

std::string numbered(const char* stem, int k) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s_%d.bin", stem, k);
    return buf;
}

bool read_file(const std::string& name, size_t size, std::vector<unsigned char>& out,
               std::string& err) {
    const std::string p = path_of(name);
    FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) {
        err = p + ": cannot open (missing?)";
        return false;
    }
    out.assign(size + 1, 0);
    const size_t got = std::fread(&out[0], 1, out.size(), f);
    const bool bad = std::ferror(f) != 0;
    std::fclose(f);
    if (bad) {
        err = p + ": read error";
        return false;
    }
    if (got != size) {
        err = p + ": expected " + std::to_string(size) + " bytes, got " +
              (got > size ? std::string("more") : std::to_string(got));
        return false;
    }
    out.resize(size);
    return true;
}

// Load n elements of a's type from a .bin file; refuses a value that does not fit.
template <class T>
bool load(const std::string& name, T* a, size_t n, std::string& err) {
    const size_t eb = elem<T>::bytes;
    std::vector<unsigned char> buf;
    if (!read_file(name, n * eb, buf, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (!set_raw(a[i], &buf[i * eb])) {
            err = path_of(name) + ": the value at index " + std::to_string(i) +
                  " does not fit the element type (" + std::to_string(elem<T>::width) +
                  " bits)";
            return false;
        }
    }
    return true;
}

// The index: "key value" lines.
bool read_index(std::string& kernel, std::string& config, int& version, long& vectors,
                long& factors, std::string& err) {
    const std::string p = path_of("hls_sim_golden.txt");
    FILE* f = std::fopen(p.c_str(), "r");
    if (!f) {
        err = p + ": cannot open (not a golden set folder?)";
        return false;
    }
    char key[64], val[128];
    version = -1;
    vectors = factors = -1;
    while (std::fscanf(f, "%63s %127s", key, val) == 2) {
        const std::string k = key;
        if (k == "hls_sim_golden") version = std::atoi(val);
        else if (k == "kernel") kernel = val;
        else if (k == "config") config = val;
        else if (k == "vectors") vectors = std::atol(val);
        else if (k == "factors") factors = std::atol(val);
    }
    std::fclose(f);
    if (version != GTB_FORMAT_VERSION) {
        err = p + ": not a golden set index of format " + std::to_string(GTB_FORMAT_VERSION);
        return false;
    }
    if (vectors < 1 || factors < 1) {
        err = p + ": missing or bad 'vectors' / 'factors'";
        return false;
    }
    return true;
}

// ---- the data (static: the buffers are large for a stack) ------------------------------------------
in_t bottom[16][34][66];
out_t top[16][34][66];
out_t expected[16][34][66];
gtb_weight_array weight;
bias_t bias[16];
factor_t factor[GTB_FACTORS];

int fail(const std::string& msg) {
    std::printf("golden_tb: ERROR: %s\n", msg.c_str());
    std::printf("golden_tb: FAIL (the golden set could not be used)\n");
    return 2;
}

}  // namespace gtb

int main(int argc, char** argv) {
    using namespace gtb;
    if (argc > 2) {
        std::printf("usage: %s [GOLDEN_DIR]   (default: the working folder)\n", argv[0]);
        return 2;
    }
    g_dir = argc == 2 ? argv[1] : "";
    std::string err, kernel, config;
    int version;
    long vectors, factors;
    if (!read_index(kernel, config, version, vectors, factors, err)) return fail(err);
    if (kernel != HLS_SIM_GOLDEN_KERNEL)
        return fail("the golden set is for kernel " + kernel + ", this testbench was built for " +
                    HLS_SIM_GOLDEN_KERNEL);
    if (config != HLS_SIM_GOLDEN_CONFIG_ID)
        return fail("the golden set has configuration " + config + ", this testbench was built "
                    "for " + HLS_SIM_GOLDEN_CONFIG_ID + " (rebuild it with the set's headers)");
    if (factors != GTB_FACTORS)
        return fail("the golden set has " + std::to_string(factors) + " factor(s), the kernel "
                    "takes " + std::to_string(GTB_FACTORS));
    if (!load("weight.bin", reinterpret_cast<weight_t*>(weight), GTB_WEIGHTS, err) ||
        !load("bias.bin", bias, 16, err) || !load("factor.bin", factor, GTB_FACTORS, err))
        return fail(err);

    std::printf("golden_tb: kernel %s (%s), configuration %s, %ld vector(s) from %s\n",
                HLS_SIM_GOLDEN_FUNCTION, HLS_SIM_GOLDEN_KERNEL, HLS_SIM_GOLDEN_CONFIG_ID, vectors,
                g_dir.empty() ? "the working folder" : g_dir.c_str());
    long long mismatches = 0, checked = 0;
    long bad_vectors = 0;
    int shown = 0;
    for (long k = 0; k < vectors; k++) {
        if (!load(numbered("input", int(k)), &bottom[0][0][0], kBuf, err) ||
            !load(numbered("top", int(k)), &top[0][0][0], kBuf, err) ||
            !load(numbered("expected", int(k)), &expected[0][0][0], kBuf, err))
            return fail(err);
#if HLS_SIM_PER_CHANNEL_FACTOR
        GTB_CALL(bottom, top, weight, bias, factor);
#else
        GTB_CALL(bottom, top, weight, bias, factor[0]);
#endif
        const out_t* got = &top[0][0][0];
        const out_t* want = &expected[0][0][0];
        long long bad = 0;
        for (size_t i = 0; i < kBuf; i++) {
            const ap_uint<out_t::width> a = got[i].range(out_t::width - 1, 0);
            const ap_uint<out_t::width> b = want[i].range(out_t::width - 1, 0);
            if (a == b) continue;
            if (bad == 0 && shown < GTB_SHOW)
                std::printf("  vector %ld: mismatches in top (%s):\n", k,
                            numbered("expected", int(k)).c_str());
            if (shown < GTB_SHOW) {
                const int c = int(i / (kH * kW)), h = int(i / kW % kH), w = int(i % kW);
                std::printf("    vector %ld top[%d][%d][%d]: expected %s (%s), got %s (%s)\n", k,
                            c, h, w, want[i].to_string(10).c_str(), hex_bits(want[i]).c_str(),
                            got[i].to_string(10).c_str(), hex_bits(got[i]).c_str());
                shown++;
            }
            bad++;
        }
        checked += (long long)kBuf;
        mismatches += bad;
        if (bad) bad_vectors++;
        if (bad || vectors <= 8)
            std::printf("  vector %ld: top [16][34][66], %lu elements, %lld mismatch%s\n", k,
                        (unsigned long)kBuf, bad, bad == 1 ? "" : "es");
    }
    if (mismatches == 0) {
        std::printf("golden_tb: PASS: %ld vector(s), %ld tensor(s), %lld elements checked bit for "
                    "bit, 0 mismatches\n", vectors, vectors, checked);
        return 0;
    }
    std::printf("golden_tb: FAIL: %lld of %lld elements differ, in %ld of %ld vector(s)",
                mismatches, checked, bad_vectors, vectors);
    if (mismatches > GTB_SHOW) std::printf(" (the first %d listed)", GTB_SHOW);
    std::printf("\n");
    return 1;
}

#ifdef HLS_SIM_GOLDEN_UNITY
// One translation unit: the kernel compiled into the testbench (never in Vitis HLS, which
// compiles the design source hls_sim_kernel.cpp on its own).
#include "hls_sim_kernel.cpp"
#endif
