// golden_tb.cpp -- the hls-sim golden testbench: replays a golden set (`hls-sim golden`) through
// the kernel of kernels/ and compares every bit of every output element.
//
// One testbench for every kernel kind and for everyone: the Python tests and `hls-sim csim`
// (g++), and Vitis HLS csim_design / cosim_design (testbench/vitis_hls.tcl). It needs nothing
// but the golden set:
//
//   hls_sim_golden.h    generated; includes hls_sim_layer.h (the layer's traits struct) and the
//                       kind's header of kernels/, and describes the call: the fixed tensors
//                       (GTB_FIXED_TENSORS), the input and output element types and sizes, and
//                       GTB_CALL(in, out), one call of the design top hls_sim_top.
//   hls_sim_kernel.cpp  generated; the design top: the kind's template called with the layer.
//   hls_sim_golden.txt  a plain-text index: format version, kernel, configuration id, number
//                       of vectors, the element count of every tensor.
//   NAME.bin (weight, bias, factor: the fixed tensors of the kind)
//   input_K.bin top_K.bin expected_K.bin     vector K: input, output before and after the call
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
// fit, an index for another kernel, configuration or tensor sizes, or an index whose vector
// count N disagrees with the files: input_N.bin exists).
#include <stdint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "hls_sim_golden.h"

#define GTB_FORMAT_VERSION 1
#define GTB_SHOW 10  // mismatches listed in full

namespace gtb {

const int kC = GTB_OUTPUT_C, kH = GTB_OUTPUT_H, kW = GTB_OUTPUT_W;
const size_t kBuf = size_t(kC) * kH * kW;
const size_t kIn = GTB_INPUT_ELEMENTS;

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

// The index: "key value" lines (elements_NAME: the element count of a tensor).
bool read_index(std::map<std::string, std::string>& index, std::string& err) {
    const std::string p = path_of("hls_sim_golden.txt");
    FILE* f = std::fopen(p.c_str(), "r");
    if (!f) {
        err = p + ": cannot open (not a golden set folder?)";
        return false;
    }
    char key[64], val[128];
    while (std::fscanf(f, "%63s %127s", key, val) == 2) index[key] = val;
    std::fclose(f);
    if (std::atoi(index["hls_sim_golden"].c_str()) != GTB_FORMAT_VERSION) {
        err = p + ": not a golden set index of format " + std::to_string(GTB_FORMAT_VERSION);
        return false;
    }
    if (std::atol(index["vectors"].c_str()) < 1) {
        err = p + ": missing or bad 'vectors'";
        return false;
    }
    return true;
}

// The index's element count of tensor `name` must be the one this testbench was built for.
bool check_count(std::map<std::string, std::string>& index, const char* name, size_t n,
                 std::string& err) {
    const std::string k = std::string("elements_") + name;
    if (index.find(k) == index.end() || std::strtoull(index[k].c_str(), 0, 10) != n) {
        err = "the golden set's index gives " + (index.count(k) ? index[k] : std::string("no")) +
              " element(s) for " + name + ", this testbench was built for " + std::to_string(n) +
              " (rebuild it with the set's headers)";
        return false;
    }
    return true;
}

// ---- the data (static: the buffers are large for a stack) ------------------------------------------
GTB_INPUT_TYPE input[GTB_INPUT_ELEMENTS];
GTB_OUTPUT_TYPE top[GTB_OUTPUT_C * GTB_OUTPUT_H * GTB_OUTPUT_W];
GTB_OUTPUT_TYPE expected[GTB_OUTPUT_C * GTB_OUTPUT_H * GTB_OUTPUT_W];

int fail(const std::string& msg) {
    std::printf("golden_tb: ERROR: %s\n", msg.c_str());
    std::printf("golden_tb: FAIL (the golden set could not be used)\n");
    return 2;
}

}  // namespace gtb

// The fixed tensors (weight, bias, factor: whatever the kind has), named as GTB_CALL uses them.
#define GTB_DECLARE(name, T, n) T gtb_##name[n];
GTB_FIXED_TENSORS(GTB_DECLARE)

int main(int argc, char** argv) {
    using namespace gtb;
    if (argc > 2) {
        std::printf("usage: %s [GOLDEN_DIR]   (default: the working folder)\n", argv[0]);
        return 2;
    }
    g_dir = argc == 2 ? argv[1] : "";
    std::string err;
    std::map<std::string, std::string> index;
    if (!read_index(index, err)) return fail(err);
    const std::string kernel = index["kernel"], config = index["config"];
    const long vectors = std::atol(index["vectors"].c_str());
    if (kernel != HLS_SIM_GOLDEN_KERNEL)
        return fail("the golden set is for kernel " + kernel + ", this testbench was built for " +
                    HLS_SIM_GOLDEN_KERNEL);
    if (config != HLS_SIM_GOLDEN_CONFIG_ID)
        return fail("the golden set has configuration " + config + ", this testbench was built "
                    "for " + HLS_SIM_GOLDEN_CONFIG_ID + " (rebuild it with the set's headers)");
    // The index's vector count, checked against the files: a set of N vectors has no
    // input_N.bin (an index edited to a smaller count would silently skip vectors).
    if (FILE* extra = std::fopen(path_of(numbered("input", int(vectors))).c_str(), "rb")) {
        std::fclose(extra);
        return fail("the index (hls_sim_golden.txt) gives " + std::to_string(vectors) +
                    " vector(s), but " + path_of(numbered("input", int(vectors))) +
                    " exists: the index does not match the set's files (check the set with "
                    "hls-sim verify, or write it again)");
    }
    bool ok = check_count(index, "input", kIn, err) && check_count(index, "output", kBuf, err);
#define GTB_CHECK(name, T, n) ok = ok && check_count(index, #name, n, err);
    GTB_FIXED_TENSORS(GTB_CHECK)
#define GTB_LOAD(name, T, n) ok = ok && load(#name ".bin", gtb_##name, n, err);
    GTB_FIXED_TENSORS(GTB_LOAD)
    if (!ok) return fail(err);

    std::printf("golden_tb: kernel %s (%s), configuration %s, %ld vector(s) from %s\n",
                HLS_SIM_GOLDEN_FUNCTION, HLS_SIM_GOLDEN_KERNEL, HLS_SIM_GOLDEN_CONFIG_ID, vectors,
                g_dir.empty() ? "the working folder" : g_dir.c_str());
    long long mismatches = 0, checked = 0;
    long bad_vectors = 0;
    int shown = 0;
    for (long k = 0; k < vectors; k++) {
        if (!load(numbered("input", int(k)), input, kIn, err) ||
            !load(numbered("top", int(k)), top, kBuf, err) ||
            !load(numbered("expected", int(k)), expected, kBuf, err))
            return fail(err);
        GTB_CALL(input, top);
        const GTB_OUTPUT_TYPE* got = top;
        const GTB_OUTPUT_TYPE* want = expected;
        long long bad = 0;
        for (size_t i = 0; i < kBuf; i++) {
            const ap_uint<GTB_OUTPUT_TYPE::width> a = got[i].range(GTB_OUTPUT_TYPE::width - 1, 0);
            const ap_uint<GTB_OUTPUT_TYPE::width> b = want[i].range(GTB_OUTPUT_TYPE::width - 1, 0);
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
            std::printf("  vector %ld: top [%d][%d][%d], %lu elements, %lld mismatch%s\n", k, kC,
                        kH, kW, (unsigned long)kBuf, bad, bad == 1 ? "" : "es");
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
