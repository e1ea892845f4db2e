// tb_io.h -- raw-value I/O shared by the testbench programs.
//
// File format: a flat array of little-endian int64, nothing else (no header). Each int64 is the
// RAW stored integer of one element (its two's-complement bit pattern, sign-extended if the
// type is signed, zero-extended if not); an ap_fixed<W,I> element's value is raw * 2^-(W-I).
//
// Works for every ap_int/ap_uint/ap_fixed/ap_ufixed type of width 1..64 without touching the
// headers' internals: bits are moved with .range(W-1, 0).
#ifndef HLS_SIM_TB_IO_H
#define HLS_SIM_TB_IO_H

#include <ap_int.h>
#include <ap_fixed.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tb {

// ---- one element <-> raw int64 ------------------------------------------------------------

// Is raw representable as a W-bit (un)signed integer? A W=64 unsigned element is stored as its
// bit pattern, so every int64 is accepted there.
inline bool raw_fits(int64_t raw, int W, bool S) {
    if (W >= 64) return true;
    if (S) {
        const int64_t lo = -(int64_t(1) << (W - 1));
        const int64_t hi = (int64_t(1) << (W - 1)) - 1;
        return raw >= lo && raw <= hi;
    }
    if (W == 63) return raw >= 0;
    return raw >= 0 && raw < (int64_t(1) << W);
}

template <int W>
inline int64_t bits_to_raw(const ap_uint<W>& bits, bool S) {
    if (S) {
        ap_int<W> s = bits;  // same bits, read as signed
        return s.to_int64();
    }
    return int64_t(bits.to_uint64());
}

template <int W, bool S>
inline bool set_raw(ap_int_base<W, S>& x, int64_t raw) {
    static_assert(W <= 64, "tb_io handles widths up to 64 bits");
    if (!raw_fits(raw, W, S)) return false;
    x.range(W - 1, 0) = ap_uint<W>((unsigned long long)raw);
    return true;
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline bool set_raw(ap_fixed_base<W, I, S, Q, O, N>& x, int64_t raw) {
    static_assert(W <= 64, "tb_io handles widths up to 64 bits");
    if (!raw_fits(raw, W, S)) return false;
    x.range(W - 1, 0) = ap_uint<W>((unsigned long long)raw);
    return true;
}

template <int W, bool S>
inline int64_t get_raw(const ap_int_base<W, S>& x) {
    static_assert(W <= 64, "tb_io handles widths up to 64 bits");
    ap_uint<W> bits = x.range(W - 1, 0);
    return bits_to_raw<W>(bits, S);
}

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
inline int64_t get_raw(const ap_fixed_base<W, I, S, Q, O, N>& x) {
    static_assert(W <= 64, "tb_io handles widths up to 64 bits");
    ap_uint<W> bits = x.range(W - 1, 0);
    return bits_to_raw<W>(bits, S);
}

// ---- whole files ----------------------------------------------------------------------------

// Read exactly n little-endian int64 from path. On failure returns false and sets err to a
// message naming the file and the reason.
inline bool read_int64_file(const std::string& path, size_t n, std::vector<int64_t>& out,
                            std::string& err) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        err = path + ": cannot open (missing?)";
        return false;
    }
    std::vector<unsigned char> buf(n * 8 + 1);
    const size_t got = std::fread(buf.data(), 1, buf.size(), f);
    const bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (read_error) {
        err = path + ": read error";
        return false;
    }
    if (got != n * 8) {
        err = path + ": expected " + std::to_string(n) + " int64 value(s) (" +
              std::to_string(n * 8) + " bytes), got " +
              (got > n * 8 ? std::string("more") : std::to_string(got) + " bytes");
        return false;
    }
    out.resize(n);
    for (size_t i = 0; i < n; i++) {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--) u = (u << 8) | buf[i * 8 + b];
        out[i] = int64_t(u);
    }
    return true;
}

// Write the n values to path atomically (path.tmp, then rename), so an existing file is never
// left half-overwritten.
inline bool write_int64_file(const std::string& path, const std::vector<int64_t>& vals,
                             std::string& err) {
    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) {
        err = tmp + ": cannot create";
        return false;
    }
    std::vector<unsigned char> buf(vals.size() * 8);
    for (size_t i = 0; i < vals.size(); i++) {
        uint64_t u = uint64_t(vals[i]);
        for (int b = 0; b < 8; b++) buf[i * 8 + b] = (unsigned char)((u >> (8 * b)) & 0xff);
    }
    const bool ok_write = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
    const bool ok_close = std::fclose(f) == 0;
    if (!ok_write || !ok_close) {
        std::remove(tmp.c_str());
        err = tmp + ": write error";
        return false;
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        err = path + ": cannot rename " + tmp + " into place";
        return false;
    }
    return true;
}

// Load n raw values from path into the flat array a[0..n) of any ap_* type. Fails (with err
// naming the file, the index and the value) if a value does not fit the element's width.
template <class T>
inline bool load_raw(const std::string& path, T* a, size_t n, std::string& err) {
    std::vector<int64_t> vals;
    if (!read_int64_file(path, n, vals, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (!set_raw(a[i], vals[i])) {
            err = path + ": value " + std::to_string(vals[i]) + " at index " + std::to_string(i) +
                  " does not fit the element type (width " + std::to_string(T::width) + ")";
            return false;
        }
    }
    return true;
}

// Store the raw values of a[0..n) to path.
template <class T>
inline bool store_raw(const std::string& path, const T* a, size_t n, std::string& err) {
    std::vector<int64_t> vals(n);
    for (size_t i = 0; i < n; i++) vals[i] = get_raw(a[i]);
    return write_int64_file(path, vals, err);
}

}  // namespace tb

#endif  // HLS_SIM_TB_IO_H
