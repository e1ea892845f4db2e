// tb_io_selftest.cpp -- round-trips raw values through tb_io.h's set_raw/get_raw for a spread of
// ap_* types (widths 1..64, signed and unsigned, integer and fixed point), checks that values
// land where ap_fixed's own arithmetic says (value = raw * 2^-(W-I)), that out-of-range raws are
// refused, and that a file written by write_int64_file reads back. Prints PASS/FAIL, exit 0/1.
// Build: g++ -O2 -std=c++11 -isystem <ap_types> -Itestbench testbench/tb_io_selftest.cpp
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tb_io.h"

static int g_fail = 0;
#define CHECK(cond, what)                                             \
    do {                                                              \
        if (!(cond)) {                                                \
            std::printf("FAIL %s (line %d): %s\n", what, __LINE__, #cond); \
            g_fail++;                                                 \
        }                                                             \
    } while (0)

template <class T>
static void roundtrip(const char* name, int W, bool S) {
    std::vector<int64_t> raws;
    if (W >= 64) {
        raws = {0, 1, -1, INT64_MAX, INT64_MIN, 0x0123456789abcdefLL, -0x0123456789abcdefLL};
    } else if (S) {
        const int64_t lo = -(int64_t(1) << (W - 1)), hi = (int64_t(1) << (W - 1)) - 1;
        raws = {lo, hi, 0, lo / 2, hi / 2};
        if (W > 1) raws.push_back(-1), raws.push_back(1);
    } else {
        const int64_t hi = W == 63 ? INT64_MAX : (int64_t(1) << W) - 1;
        raws = {0, hi, hi / 2, 1};
    }
    for (int64_t r : raws) {
        T x;
        CHECK(tb::set_raw(x, r), name);
        CHECK(tb::get_raw(x) == r, name);
    }
    if (W < 64) {
        T x;
        const int64_t below = S ? -(int64_t(1) << (W - 1)) - 1 : -1;
        if (W < 63) {
            const int64_t above = S ? (int64_t(1) << (W - 1)) : (int64_t(1) << W);
            CHECK(!tb::set_raw(x, above), name);
        }
        CHECK(!tb::set_raw(x, below), name);
    }
}

int main() {
    roundtrip<ap_int<1> >("ap_int<1>", 1, true);
    roundtrip<ap_uint<1> >("ap_uint<1>", 1, false);
    roundtrip<ap_int<8> >("ap_int<8>", 8, true);
    roundtrip<ap_uint<8> >("ap_uint<8>", 8, false);
    roundtrip<ap_int<33> >("ap_int<33>", 33, true);
    roundtrip<ap_uint<63> >("ap_uint<63>", 63, false);
    roundtrip<ap_int<64> >("ap_int<64>", 64, true);
    roundtrip<ap_uint<64> >("ap_uint<64>", 64, false);
    roundtrip<ap_fixed<32, 1> >("ap_fixed<32,1>", 32, true);
    roundtrip<ap_fixed<16, 16, AP_RND, AP_SAT> >("ap_fixed<16,16,AP_RND,AP_SAT>", 16, true);
    roundtrip<ap_ufixed<1, 0> >("ap_ufixed<1,0>", 1, false);
    roundtrip<ap_fixed<7, -3> >("ap_fixed<7,-3>", 7, true);
    roundtrip<ap_ufixed<12, 20> >("ap_ufixed<12,20>", 12, false);
    roundtrip<ap_fixed<64, 40, AP_RND_CONV, AP_SAT_SYM> >("ap_fixed<64,40,...>", 64, true);
    roundtrip<ap_ufixed<64, 3> >("ap_ufixed<64,3>", 64, false);

    // Values: raw * 2^-(W-I).
    {
        ap_fixed<32, 1> f;
        tb::set_raw(f, int64_t(1) << 30);
        CHECK(f == 0.5, "ap_fixed<32,1> raw 2^30 is 0.5");
        tb::set_raw(f, -(int64_t(1) << 31));
        CHECK(f == -1.0, "ap_fixed<32,1> raw -2^31 is -1");
        ap_ufixed<8, 4> u = 2.5;
        CHECK(tb::get_raw(u) == 40, "ap_ufixed<8,4> 2.5 is raw 40");
        ap_int<12> i = -7;
        CHECK(tb::get_raw(i) == -7, "ap_int<12> -7");
        ap_uint<12> ui = 4095;
        CHECK(tb::get_raw(ui) == 4095, "ap_uint<12> 4095 zero-extended");
    }

    // Files.
    {
        const std::string p = "tb_io_selftest.tmp.bin";
        std::vector<int64_t> v = {0, -1, INT64_MIN, INT64_MAX, 255, -32768};
        std::string err;
        CHECK(tb::write_int64_file(p, v, err), "write");
        std::vector<int64_t> back;
        CHECK(tb::read_int64_file(p, v.size(), back, err), "read");
        CHECK(back == v, "read back equal");
        CHECK(!tb::read_int64_file(p, v.size() + 1, back, err), "short file refused");
        CHECK(!tb::read_int64_file(p, v.size() - 1, back, err), "long file refused");
        CHECK(!tb::read_int64_file(p + ".missing", 1, back, err), "missing file refused");
        std::remove(p.c_str());
    }

    if (g_fail) {
        std::printf("FAIL (%d checks)\n", g_fail);
        return 1;
    }
    std::printf("PASS\n");
    return 0;
}
