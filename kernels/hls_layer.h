// hls_layer.h -- the building blocks every kernel kind shares, templated on a per-layer traits
// struct CFG (docs/kinds.md, "The per-layer configuration"):
//
//   acc_t engine_16<CFG>(w[16], x[16])        sixteen products, balanced adder tree
//   out_t hls_sim_layer_out_max<CFG>()        the largest value out_t holds
//   out_t hls_sim_activate<CFG>(sum_t x)      relu (optionally clipped) or none
//   out_t epilogue<CFG>(acc, bias, factor)    quant_dequant, bias add, activation
//
// and the constants the traits struct's ACCUMULATE, ACTIVATION and MODE members take.
//
// Every type comes from CFG (typename CFG::in_t, ...), never from the global typedefs of
// hls_config.h: this header needs only <ap_int.h> and <ap_fixed.h>, so layers with different
// types compile together in one translation unit. hls_config.h includes it (before its own
// typedefs) and builds the seed's hls_sim_global_config on it; hls_kernels.h's seed helpers
// call these templates with that struct, so the seed kinds and the new kinds share one
// definition of every expression. Needs C++11 or later (`auto`).
#ifndef HLS_SIM_HLS_LAYER_H
#define HLS_SIM_HLS_LAYER_H

#include <ap_int.h>
#include <ap_fixed.h>

// CFG::ACCUMULATE: how a kind adds its products into acc_t (conv2d, conv_transpose).
#define HLS_SIM_ACC_GROUP 0  // acc += acc_t(sum of 16 products), per input block and tap
#define HLS_SIM_ACC_EXACT 1  // wide_t t += product for every product; acc_t acc = t once
#define HLS_SIM_ACC_TAP 2    // acc += product, one product at a time

// CFG::ACTIVATION: the last step of the epilogue.
#define HLS_SIM_ACT_RELU 0  // relu, clipped at max(out_t) when CFG::RELU_CLIP
#define HLS_SIM_ACT_NONE 1  // plain out_t(x)
#define HLS_SIM_ACT_CLIP 2  // relu6-style: 0 below 0, the value whose raw is CFG::CLIP_RAW above it

// CFG::MODE of upsample.
#define HLS_SIM_UP_NEAREST 0  // each pixel repeated F x F times
#define HLS_SIM_UP_ZEROS 1    // each pixel at the top left of its F x F cell, zeros elsewhere

// compute_engine_16's datapath types. By default each product and each sum of the adder tree
// has the natural ap_* result type. A traits struct that declares `typedef ... product_t;`
// converts every product to product_t (`product_t p = w * x;`), one that declares
// `typedef ... tree_t;` converts the result of every adder of the tree to tree_t
// (`tree_t s = a + b;`, 15 adders, four levels); the tree's total then returns as acc_t.
// A struct without them keeps the natural types (SFINAE on the member's presence, C++11).
template <class T>
struct hls_sim_void { typedef void type; };

template <class CFG, class = void>
struct hls_sim_product {  // natural: the full-precision product
    template <class A, class B>
    static auto mul(const A& a, const B& b) -> decltype(a * b) { return a * b; }
};
template <class CFG>
struct hls_sim_product<CFG, typename hls_sim_void<typename CFG::product_t>::type> {
    template <class A, class B>
    static typename CFG::product_t mul(const A& a, const B& b) {
        typename CFG::product_t p = a * b;
        return p;
    }
};

template <class CFG, class = void>
struct hls_sim_tree {  // natural: each sum one bit wider than its wider operand
    template <class A, class B>
    static auto add(const A& a, const B& b) -> decltype(a + b) { return a + b; }
};
template <class CFG>
struct hls_sim_tree<CFG, typename hls_sim_void<typename CFG::tree_t>::type> {
    template <class A, class B>
    static typename CFG::tree_t add(const A& a, const B& b) {
        typename CFG::tree_t s = a + b;
        return s;
    }
};

// Sixteen products w[k] * x[k] summed by a balanced adder tree. With the natural types
// (the default) nothing before the final conversion can overflow: with the seed's types the
// products are ap_int<16> and the total ap_int<20>, and only the return to acc_t can wrap or
// saturate (as acc_t's own overflow mode says). With product_t / tree_t (above) each product /
// each adder's result is converted as that type's modes say. The seed's compute_engine_16
// (hls_kernels.h) is this function.
template <class CFG>
typename CFG::acc_t engine_16(const typename CFG::weight_t w[16], const typename CFG::in_t x[16]) {
    typedef typename CFG::acc_t acc_t;
    typedef hls_sim_product<CFG> P;
    typedef hls_sim_tree<CFG> T;
    auto p0 = P::mul(w[0], x[0]);
    auto p1 = P::mul(w[1], x[1]);
    auto p2 = P::mul(w[2], x[2]);
    auto p3 = P::mul(w[3], x[3]);
    auto p4 = P::mul(w[4], x[4]);
    auto p5 = P::mul(w[5], x[5]);
    auto p6 = P::mul(w[6], x[6]);
    auto p7 = P::mul(w[7], x[7]);
    auto p8 = P::mul(w[8], x[8]);
    auto p9 = P::mul(w[9], x[9]);
    auto p10 = P::mul(w[10], x[10]);
    auto p11 = P::mul(w[11], x[11]);
    auto p12 = P::mul(w[12], x[12]);
    auto p13 = P::mul(w[13], x[13]);
    auto p14 = P::mul(w[14], x[14]);
    auto p15 = P::mul(w[15], x[15]);

    auto s0 = T::add(p0, p1);
    auto s1 = T::add(p2, p3);
    auto s2 = T::add(p4, p5);
    auto s3 = T::add(p6, p7);
    auto s4 = T::add(p8, p9);
    auto s5 = T::add(p10, p11);
    auto s6 = T::add(p12, p13);
    auto s7 = T::add(p14, p15);

    auto t0 = T::add(s0, s1);
    auto t1 = T::add(s2, s3);
    auto t2 = T::add(s4, s5);
    auto t3 = T::add(s6, s7);

    auto u0 = T::add(t0, t1);
    auto u1 = T::add(t2, t3);

    return acc_t(T::add(u0, u1));
}

// The largest value out_t holds: all value bits set, the sign bit clear if out_t is signed.
// Works for any ap_int/ap_uint/ap_fixed/ap_ufixed out_t (255 for ap_uint<8>, 127 for ap_int<8>,
// 31.75 for ap_fixed<8,6>).
template <class CFG>
typename CFG::out_t hls_sim_layer_out_max() {
    typedef typename CFG::out_t out_t;
    out_t m = 0;
    m = ~m;                                  // all ones
    if (m < 0) m[out_t::width - 1] = 0;      // signed: clear the sign bit
    return m;
}

// The activation, chosen at compile time by CFG::ACTIVATION (a class template, so that only
// the chosen branch is instantiated: a layer without activation need not set RELU_CLIP).
template <class CFG, int ACTIVATION>
struct hls_sim_activation;

// relu: 0 for x < 0; with RELU_CLIP, max(out_t) above it; else out_t(x). The clip compares x
// (a sum_t) with the out_t maximum directly, before any conversion of x to out_t: the seed's
// mixed-type comparison, kept as the literal expression `x > top`.
template <class CFG>
struct hls_sim_activation<CFG, HLS_SIM_ACT_RELU> {
    static typename CFG::out_t apply(typename CFG::sum_t x) {
        typedef typename CFG::out_t out_t;
        if (x < 0) return out_t(0);
        if (CFG::RELU_CLIP) {
            const out_t top = hls_sim_layer_out_max<CFG>();
            if (x > top) return top;
        }
        return out_t(x);
    }
};

// none: the plain conversion (wraps or saturates as out_t's own modes say).
template <class CFG>
struct hls_sim_activation<CFG, HLS_SIM_ACT_NONE> {
    static typename CFG::out_t apply(typename CFG::sum_t x) {
        typedef typename CFG::out_t out_t;
        return out_t(x);
    }
};

// clip (relu6-style): 0 for x < 0, the clip value above it, else out_t(x). The clip value is
// the out_t whose stored integer is CFG::CLIP_RAW (e.g. 6.0 in ap_ufixed<8,3> is raw 192); the
// comparison is relu's, `x > top`, with that value as top.
template <class CFG>
struct hls_sim_activation<CFG, HLS_SIM_ACT_CLIP> {
    static typename CFG::out_t apply(typename CFG::sum_t x) {
        typedef typename CFG::out_t out_t;
        if (x < 0) return out_t(0);
        out_t top;
        top.range(out_t::width - 1, 0) = (long long)CFG::CLIP_RAW;
        if (x > top) return top;
        return out_t(x);
    }
};

// CFG's activation of an argument already converted to sum_t (the seed's relu(sum_t x)).
template <class CFG>
typename CFG::out_t hls_sim_activate(typename CFG::sum_t x) {
    return hls_sim_activation<CFG, CFG::ACTIVATION>::apply(x);
}

// The epilogue of every kind with weights, for one output: exactly the seed's
//   relu(bias[c] + qunat_dequant2(acc, factor))
// i.e. acc * factor in its natural full-precision type converted once to qd_t (quant_dequant),
// the bias added in the natural type and converted once to sum_t (relu's argument), then the
// activation.
template <class CFG>
typename CFG::out_t epilogue(typename CFG::acc_t acc, typename CFG::bias_t bias,
                             typename CFG::factor_t factor) {
    typename CFG::qd_t qd = acc * factor;
    typename CFG::sum_t x = bias + qd;
    return hls_sim_activate<CFG>(x);
}

#endif  // HLS_SIM_HLS_LAYER_H
