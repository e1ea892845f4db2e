// golden_io.h -- reading a golden set's files in a C++ testbench (net_golden_tb.cpp): the
// .bin encoding of any ap_int / ap_uint / ap_fixed / ap_ufixed element (raw stored integers,
// little-endian two's complement, 8 bytes per started 64 bits, sign- or zero-extended), the
// plain-text index, and an element's bits for comparing and printing.
//
// The same rules as golden_tb.cpp's (which keeps its own copy, so that the layer testbench
// stays one file for Vitis HLS). A value that does not fit its element type is refused, never
// truncated.
#ifndef HLS_SIM_GOLDEN_IO_H
#define HLS_SIM_GOLDEN_IO_H

#include <stdint.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <ap_int.h>
#include <ap_fixed.h>

namespace gio {

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

// Whether two elements hold the same W bits.
template <class T>
bool same_bits(const T& a, const T& b) {
    const ap_uint<T::width> x = a.range(T::width - 1, 0);
    const ap_uint<T::width> y = b.range(T::width - 1, 0);
    return x == y;
}

// dst = src with every bit inverted: an element that differs from src in every bit.
template <class T>
void invert_bits(T& dst, const T& src) {
    ap_uint<T::width> x = src.range(T::width - 1, 0);
    x = ~x;
    dst.range(T::width - 1, 0) = x;
}

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
struct Dir {
    std::string dir;  // "" = the working folder
    std::string path(const std::string& name) const { return dir.empty() ? name : dir + "/" + name; }
};

inline std::string numbered(const std::string& stem, long k) {
    return stem + "_" + std::to_string(k) + ".bin";
}

inline bool read_file(const std::string& p, size_t size, std::vector<unsigned char>& out,
                      std::string& err) {
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

// Load n elements of a's type from the .bin file p; refuses a value that does not fit.
template <class T>
bool load(const std::string& p, T* a, size_t n, std::string& err) {
    const size_t eb = elem<T>::bytes;
    std::vector<unsigned char> buf;
    if (!read_file(p, n * eb, buf, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (!set_raw(a[i], &buf[i * eb])) {
            err = p + ": the value at index " + std::to_string(i) +
                  " does not fit the element type (" + std::to_string(elem<T>::width) + " bits)";
            return false;
        }
    }
    return true;
}

inline bool exists(const std::string& p) {
    if (FILE* f = std::fopen(p.c_str(), "rb")) {
        std::fclose(f);
        return true;
    }
    return false;
}

// The index: "key value" lines.
inline bool read_index(const std::string& p, std::map<std::string, std::string>& index,
                       std::string& err) {
    FILE* f = std::fopen(p.c_str(), "r");
    if (!f) {
        err = p + ": cannot open (not a golden set folder?)";
        return false;
    }
    char key[96], val[128];
    while (std::fscanf(f, "%95s %127s", key, val) == 2) index[key] = val;
    std::fclose(f);
    return true;
}

// The index's element count of tensor `name` must be the one the testbench was built for.
inline bool check_count(std::map<std::string, std::string>& index, const std::string& name,
                        size_t n, std::string& err) {
    const std::string k = "elements_" + name;
    if (index.find(k) == index.end() || std::strtoull(index[k].c_str(), 0, 10) != n) {
        err = "the golden set's index gives " + (index.count(k) ? index[k] : std::string("no")) +
              " element(s) for " + name + ", this testbench was built for " + std::to_string(n) +
              " (rebuild it with the set's headers)";
        return false;
    }
    return true;
}

}  // namespace gio

#endif  // HLS_SIM_GOLDEN_IO_H
