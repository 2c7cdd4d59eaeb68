// brisk_randn: a standard normal by the ziggurat method (Marsaglia & Tsang,
// 2000) on Philox blocks, with the tables of ziggurat.h. Each attempt takes
// one block: 64 bits give the layer (8), the sign (1) and a 52-bit integer;
// the other 64 bits, when needed, the uniform of the wedge test. About 99%
// of draws return after one block and a table lookup: no log, no sin.
BRISK_FN double brisk_randn(BriskRng* r) {
    if (r->has_first && r->has_first_normal) {
        // The first attempt on draw 0, accepted, computed ahead: the same number.
        r->has_first = 0;
        r->c1 += 1;
        return r->first_normal;
    }
    while (true) {
        uint32_t w[4];
        brisk_rng_next(r, w);
        const uint64_t bits = ((uint64_t)w[0] << 32) | w[1];
        const int layer = (int)(bits & 0xff);
        const bool negative = (bits >> 8) & 1;
        const uint64_t u = bits >> 12;
        const double x = (double)u * brisk_zig_w[layer];
        if (u < brisk_zig_k[layer]) return negative ? -x : x;
        if (layer == 0) {
            // The tail beyond R (Marsaglia, 1964), one block per attempt.
            while (true) {
                brisk_rng_next(r, w);
                const double a = -log(1.0 - brisk_u01(w[0], w[1])) / BRISK_ZIG_R;
                const double b = -log(1.0 - brisk_u01(w[2], w[3]));
                if (b + b > a * a) return negative ? -(BRISK_ZIG_R + a) : BRISK_ZIG_R + a;
            }
        }
        // The wedge between this layer's edge and the curve.
        const double y = brisk_zig_f[layer] + brisk_u01(w[2], w[3]) * (brisk_zig_f[layer + 1] - brisk_zig_f[layer]);
        if (y < exp(-0.5 * x * x)) return negative ? -x : x;
    }
}

// brisk_rng_prefetch and, for each element, brisk_randn's first attempt on
// its draw 0 (the table lookup of the loop above), in loops the compiler
// vectorises.
BRISK_FN void brisk_rng_prefetch_normal(BriskRngBlocks* b, uint64_t seed, uint64_t stream, int64_t first) {
    brisk_rng_prefetch(b, seed, stream, first);
    for (int k = 0; k < BRISK_AHEAD; ++k) {
        const uint64_t bits = ((uint64_t)b->w[0][k] << 32) | b->w[1][k];
        const int layer = (int)(bits & 0xff);
        const uint64_t u = bits >> 12;
        const double x = (double)u * brisk_zig_w[layer];
        b->normal[k] = ((bits >> 8) & 1) ? -x : x;
        b->normal_ok[k] = u < brisk_zig_k[layer];
    }
    b->normals = 1;
}
