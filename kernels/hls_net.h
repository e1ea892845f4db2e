// hls_net.h -- the data movement of a network top that runs each layer tile by tile
// (docs/golden.md, "Network golden sets"; hls_sim/schedule.py is the Python model):
//
//   hls_sim_gather<C, WC>(map, win, c0, h0, w0, fill)
//       win[c][i][j] = map[c0 + c][h0 + i][w0 + j], or fill where (h0 + i, w0 + j) is outside
//       the map: a tile's input window, halo from the neighbouring tiles included, padded at
//       the image border (fill: 0, or the element type's minimum for max_pool);
//   hls_sim_scatter<TILE_H, TILE_W, CROP_H, CROP_W, RC, C>(res, map, c0, h0, w0)
//       map[c0 + c][h0 + i][w0 + j] = res[c][CROP_H + i][CROP_W + j] for i < TILE_H,
//       j < TILE_W, cut at the map's edge: a kernel call's outputs that are the tile's;
//   hls_sim_lowest<T>()
//       the smallest value of T (all bits zero but the sign bit of a signed type).
//
// Every size is a template parameter (the channel counts given, C of the map and WC, RC of the
// window and the call's output; the others deduced from the arrays), so the loops have
// constant trip counts. Map and window share one element type: the layers' types are checked equal by
// hls-sim (no conversion between layers). Synthesizable: static sizes, one element per
// pipelined iteration (II=1).
#ifndef HLS_SIM_HLS_NET_H
#define HLS_SIM_HLS_NET_H

#include <ap_int.h>
#include <ap_fixed.h>

template <class T>
struct hls_sim_same { typedef T type; };  // a parameter that takes no part in deduction

template <class T>
T hls_sim_lowest() {
    T m = 0;
    m = ~m;                       // all ones: -1 (signed) or the maximum (unsigned)
    if (m < 0) {                  // signed: only the sign bit set
        m = 0;
        m[T::width - 1] = 1;
        return m;
    }
    return T(0);
}

template <int C, int WC, class T, int H, int W, int WH, int WW>
void hls_sim_gather(T map[C][H][W], T win[WC][WH][WW], int c0, int h0, int w0,
                    typename hls_sim_same<T>::type fill) {
GATHER_C:
    for (int c = 0; c < WC; c++) {
    GATHER_H:
        for (int i = 0; i < WH; i++) {
        GATHER_W:
            for (int j = 0; j < WW; j++) {
#pragma HLS PIPELINE II=1
                const int h = h0 + i, w = w0 + j;
                const bool inside = h >= 0 && h < H && w >= 0 && w < W;
                win[c][i][j] = inside ? map[c0 + c][h][w] : fill;
            }
        }
    }
}

template <int TILE_H, int TILE_W, int CROP_H, int CROP_W, int RC, int C, class T, int RH, int RW,
          int H, int W>
void hls_sim_scatter(T res[RC][RH][RW], T map[C][H][W], int c0, int h0, int w0) {
    static_assert(CROP_H >= 0 && CROP_H + TILE_H <= RH && CROP_W >= 0 && CROP_W + TILE_W <= RW,
                  "hls_sim_scatter: the tile must lie inside the call's output");
SCATTER_C:
    for (int c = 0; c < RC; c++) {
    SCATTER_H:
        for (int i = 0; i < TILE_H; i++) {
        SCATTER_W:
            for (int j = 0; j < TILE_W; j++) {
#pragma HLS PIPELINE II=1
                if (h0 + i < H && w0 + j < W) map[c0 + c][h0 + i][w0 + j] = res[c][CROP_H + i][CROP_W + j];
            }
        }
    }
}

#endif  // HLS_SIM_HLS_NET_H
