/* test_slice.c: the region picture (src/sens/slice.c) against known answers.
 * - hand-built one-hidden-layer networks on the input plane (D = 2, anchors
 *   (0,0), (1,0), (0,1)): n kink lines in general position cut the box into
 *   1 + (lines crossing it) + (pairwise intersections inside it) regions,
 *   for relu, tanh (sign code), relu6 and hardtanh (two parallel kink lines
 *   per neuron); one relu6 / hardtanh / hardsigmoid neuron with both kinks in
 *   view gives 3 stripes; the count does not change from res 512 to 2048;
 * - a plane in D = 3 with axis-parallel kinks: exactly the expected column and
 *   row are dark, anchors land on the hand-computed pixels, discs drawn; a
 *   pixel exactly on a kink takes the lower piece;
 * - a random depth-4 network in D = 5: region count and every boundary pixel
 *   against codes computed independently in float64 at each pixel;
 * - the PNG reads back with libpng (size, every byte), the write is atomic
 *   (no temp file), a missing directory gives SN_EIO; bad arguments SN_EARG. */
#define _GNU_SOURCE /* qsort_r */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../src/core/rng.h"
#include "../src/sens/slice.h"

static char g_dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/sensi_slice_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    DIR *d = opendir(g_dir);
    if (d) {
        struct dirent *de;
        char p[512];
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", g_dir, de->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(g_dir);
    return 0;
}

static const float X1[2] = {0, 0}, X2[2] = {1, 0}, X3[2] = {0, 1};

/* One hidden layer of width n on D = 2 inputs, biases on; W0 rows and b0
 * given (as floats; the lines are recomputed from the stored floats). */
static void make_net(mlp *m, act_kind act, int n, const double *w, const double *b)
{
    mlp_config c = {.d = 2, .width = n, .k = 2, .depth = 2, .act = act, .bias = 1,
                    .sigma_w2 = 1, .sigma_b2 = 0};
    sn_err e = {0};
    assert_int_equal(mlp_init(m, &c, &e), SN_OK);
    float *W = mlp_w(m, m->params, 0), *B = mlp_b(m, m->params, 0);
    for (int j = 0; j < n; j++) {
        W[2 * j] = (float)w[2 * j];
        W[2 * j + 1] = (float)w[2 * j + 1];
        B[j] = (float)b[j];
    }
}

static long render_regions(const mlp *m, int res, double margin, uint8_t **rgb_out)
{
    uint8_t *rgb = malloc((size_t)res * res * 3);
    assert_non_null(rgb);
    slice_result r;
    sn_err e = {0};
    assert_int_equal(slice_render(m, X1, X2, X3, res, margin, rgb, &r, &e), SN_OK);
    if (rgb_out)
        *rgb_out = rgb;
    else
        free(rgb);
    return r.regions;
}

/* Lines a x + b y + c = 0 (a^2 + b^2 = 1). Expected number of regions of the
 * box [lo,hi]^2, or -1 if the arrangement is not comfortably in general
 * position: every intersection inside the box (and every line's crossing of
 * an edge) at least delta from the other lines and the box edges, no line
 * within delta of a corner, non-parallel lines at an angle with sine >= 0.2,
 * parallel ones at least delta apart. */
typedef struct line2 {
    double a, b, c;
} line2;

static double line_dist(const line2 *l, double x, double y) { return l->a * x + l->b * y + l->c; }

static long arrangement_regions(const line2 *ls, int n, double lo, double hi, double delta)
{
    const double corner[4][2] = {{lo, lo}, {hi, lo}, {lo, hi}, {hi, hi}};
    long lines = 0, inter = 0;
    int *crosses = calloc(n, sizeof(int));
    for (int i = 0; i < n; i++) {
        double mn = INFINITY, mx = -INFINITY;
        for (int k = 0; k < 4; k++) {
            double s = line_dist(&ls[i], corner[k][0], corner[k][1]);
            mn = fmin(mn, s), mx = fmax(mx, s);
        }
        if (mn < 0 && mx > 0) {
            crosses[i] = 1;
            lines++;
            if (fmin(-mn, mx) < delta)
                goto bad; /* near a corner */
        } else if (fmin(fabs(mn), fabs(mx)) < delta) {
            goto bad; /* grazes the box */
        }
    }
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (!crosses[i] || !crosses[j])
                continue;
            double det = ls[i].a * ls[j].b - ls[i].b * ls[j].a;
            if (fabs(det) < 1e-9) {
                double sg = ls[i].a * ls[j].a + ls[i].b * ls[j].b > 0 ? 1 : -1;
                if (fabs(ls[i].c - sg * ls[j].c) < delta)
                    goto bad;
                continue;
            }
            if (fabs(det) < 0.2)
                goto bad;
            double x = (ls[i].b * ls[j].c - ls[j].b * ls[i].c) / det;
            double y = (ls[j].a * ls[i].c - ls[i].a * ls[j].c) / det;
            double edge = fmin(fmin(x - lo, hi - x), fmin(y - lo, hi - y));
            if (fabs(edge) < delta)
                goto bad;
            if (edge < 0)
                continue;
            inter++;
            for (int k = 0; k < n; k++)
                if (k != i && k != j && fabs(line_dist(&ls[k], x, y)) < delta)
                    goto bad;
        }
    free(crosses);
    return 1 + lines + inter;
bad:
    free(crosses);
    return -1;
}

/* n neurons a_j = s (nx x + ny y + c), kink lines nx x + ny y + c = k / s.
 * Draws neurons from seeds 1, 2, ... until the lines are in general position;
 * fills w, b and returns the expected region count. */
static long random_neurons(act_kind act, int n, double s, double lo, double hi, double *w,
                           double *b)
{
    double kinks[2];
    int nk = act_kinks(act, kinks);
    if (nk == 0)
        nk = 1, kinks[0] = 0;
    line2 *ls = malloc(sizeof(line2) * 2 * n);
    for (uint64_t seed = 1; seed < 20000; seed++) {
        rng r;
        rng_seed(&r, seed);
        for (int j = 0; j < n; j++) {
            /* the line through two random points of the box */
            double px = lo + (hi - lo) * rng_uniform(&r), py = lo + (hi - lo) * rng_uniform(&r);
            double t = 2 * M_PI * rng_uniform(&r), nx = -sin(t), ny = cos(t);
            w[2 * j] = (float)(s * nx);
            w[2 * j + 1] = (float)(s * ny);
            b[j] = (float)(-s * (nx * px + ny * py));
        }
        for (int j = 0; j < n; j++) {
            double wx = (float)w[2 * j], wy = (float)w[2 * j + 1], bj = (float)b[j];
            double nrm = hypot(wx, wy);
            for (int k = 0; k < nk; k++)
                ls[j * nk + k] = (line2){wx / nrm, wy / nrm, (bj - kinks[k]) / nrm};
        }
        long want = arrangement_regions(ls, n * nk, lo, hi, 0.03);
        if (want > 0) {
            free(ls);
            return want;
        }
    }
    free(ls);
    fail_msg("no arrangement in general position found");
    return -1;
}

static void check_arrangement(act_kind act, int n, double s, int min_lines)
{
    double w[32], b[16];
    const double margin = 0.25;
    long want = random_neurons(act, n, s, -margin, 1 + margin, w, b);
    assert_true(want >= 1 + min_lines);
    mlp m;
    make_net(&m, act, n, w, b);
    for (int res = 512; res <= 2048; res *= 2) {
        long got = render_regions(&m, res, margin, NULL);
        print_message("%s, %d neurons, res %d: %ld regions (expected %ld)\n", act_name(act), n,
                      res, got, want);
        assert_int_equal(got, want);
    }
    mlp_free(&m);
}

static void test_relu_lines(void **state)
{
    (void)state;
    check_arrangement(ACT_RELU, 7, 1.0, 7);
}

static void test_tanh_sign_lines(void **state)
{
    (void)state;
    check_arrangement(ACT_TANH, 6, 3.0, 6);
}

static void test_two_kink_lines(void **state)
{
    (void)state;
    /* relu6 kinks at 0 and 6: s = 30 puts the second line 0.2 away;
     * hardtanh kinks at +-1: s = 6 puts them 1/3 apart */
    check_arrangement(ACT_RELU6, 4, 30.0, 4);
    check_arrangement(ACT_HARDTANH, 4, 6.0, 4);
}

static void test_stripes(void **state)
{
    (void)state;
    /* one neuron a = s (x - 0.5), kinks at x = 0.5 + k / s */
    const struct {
        act_kind act;
        double s;
    } cs[] = {{ACT_RELU6, 10.0}, {ACT_HARDTANH, 4.0}, {ACT_HARDSIGMOID, 10.0}, {ACT_RELU, 1.0}};
    for (int i = 0; i < 4; i++) {
        double w[2] = {cs[i].s, 0}, b[1] = {-0.5 * cs[i].s};
        mlp m;
        make_net(&m, cs[i].act, 1, w, b);
        uint8_t *rgb;
        long got = render_regions(&m, 300, 0.25, &rgb);
        assert_int_equal(got, cs[i].act == ACT_RELU ? 2 : 3);
        /* stripes: every row identical away from the anchor marks */
        for (int c = 0; c < 300 * 3; c++)
            assert_int_equal(rgb[150 * 300 * 3 + c], rgb[280 * 300 * 3 + c]);
        free(rgb);
        mlp_free(&m);
    }
}

static int in_anchor_mark(const slice_result *r, int res, int col, int row)
{
    int ro = slice_anchor_radius(res);
    ro += ro / 2 < 2 ? 2 : ro / 2;
    for (int t = 0; t < 3; t++) {
        int dx = col - r->anchor_px[t][0], dy = row - r->anchor_px[t][1];
        if (dx * dx + dy * dy <= ro * ro)
            return 1;
    }
    return 0;
}

static int is_dark(const uint8_t *px)
{
    return px[0] == SLICE_DARK && px[1] == SLICE_DARK && px[2] == SLICE_DARK;
}

/* A plane in D = 3: z = x1 + p (x2 - x1) + q (x3 - x1) with x1 = (1,1,1),
 * x2 = (3,1,1), x3 = (1,1,5): z = (1 + 2p, 1, 1 + 4q). Neuron 0 has its kink
 * at p = 0.5, neuron 1 at q = 0.5. */
static void test_plane_pixels(void **state)
{
    (void)state;
    mlp_config c = {.d = 3, .width = 2, .k = 2, .depth = 2, .act = ACT_RELU, .bias = 1,
                    .sigma_w2 = 1, .sigma_b2 = 0};
    sn_err e = {0};
    mlp m;
    assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
    float *W = mlp_w(&m, m.params, 0), *B = mlp_b(&m, m.params, 0);
    W[0] = 1, B[0] = -2; /* z0 - 2 = 2p - 1 */
    W[5] = 1, B[1] = -3; /* z2 - 3 = 4q - 2 */
    const float x1[3] = {1, 1, 1}, x2[3] = {3, 1, 1}, x3[3] = {1, 1, 5};
    const int res = 98; /* s = 1.5 / 97: p = 0.5 between columns 48 and 49 */
    uint8_t *rgb = malloc(res * res * 3);
    slice_result r;
    assert_int_equal(slice_render(&m, x1, x2, x3, res, 0.25, rgb, &r, &e), SN_OK);
    assert_int_equal(r.regions, 4);
    /* anchors: col = (p + 0.25) / s, row = (1.25 - q) / s, rounded:
     * 0.25 / s = 16.17, 1.25 / s = 80.83 */
    assert_int_equal(r.anchor_px[0][0], 16), assert_int_equal(r.anchor_px[0][1], 81);
    assert_int_equal(r.anchor_px[1][0], 81), assert_int_equal(r.anchor_px[1][1], 81);
    assert_int_equal(r.anchor_px[2][0], 16), assert_int_equal(r.anchor_px[2][1], 16);
    int dark = 0;
    for (int row = 0; row < res; row++)
        for (int col = 0; col < res; col++) {
            const uint8_t *px = rgb + 3 * (row * res + col);
            if (in_anchor_mark(&r, res, col, row))
                continue;
            int want = col == 48 || row == 48;
            if (is_dark(px) != want)
                fail_msg("pixel (%d,%d): dark %d, expected %d", col, row, is_dark(px), want);
            dark += want;
        }
    assert_true(dark > 150);
    /* quadrants have four different colours */
    const uint8_t *q[4] = {rgb + 3 * (10 * res + 40), rgb + 3 * (10 * res + 60),
                           rgb + 3 * (60 * res + 40), rgb + 3 * (60 * res + 60)};
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            assert_true(memcmp(q[i], q[j], 3) != 0);
    /* anchor marks: black centre, white ring */
    int rad = slice_anchor_radius(res);
    for (int t = 0; t < 3; t++) {
        const uint8_t *ctr = rgb + 3 * (r.anchor_px[t][1] * res + r.anchor_px[t][0]);
        const uint8_t *ring = ctr + 3 * (rad + 1);
        assert_true(ctr[0] == 0 && ctr[1] == 0 && ctr[2] == 0);
        assert_true(ring[0] == 255 && ring[1] == 255 && ring[2] == 255);
    }
    /* margin 0, res 11: anchors exactly on pixels (0,10), (10,10), (0,0) */
    uint8_t *small = malloc(11 * 11 * 3);
    assert_int_equal(slice_render(&m, x1, x2, x3, 11, 0.0, small, &r, &e), SN_OK);
    assert_int_equal(r.anchor_px[0][0], 0), assert_int_equal(r.anchor_px[0][1], 10);
    assert_int_equal(r.anchor_px[1][0], 10), assert_int_equal(r.anchor_px[1][1], 10);
    assert_int_equal(r.anchor_px[2][0], 0), assert_int_equal(r.anchor_px[2][1], 0);
    free(small);
    free(rgb);
    mlp_free(&m);
}

/* A point exactly on a kink belongs to the lower piece: margin 0, res 17
 * puts column 8 at p = 0.5 exactly, where a = x - 0.5 is exactly 0. So
 * column 8 has column 7's code and is the dark one (its right neighbour
 * differs), not column 7. */
static void test_kink_lower_piece(void **state)
{
    (void)state;
    double w[2] = {1, 0}, b[1] = {-0.5};
    mlp m;
    make_net(&m, ACT_RELU, 1, w, b);
    uint8_t *rgb;
    assert_int_equal(render_regions(&m, 17, 0.0, &rgb), 2);
    for (int col = 6; col <= 10; col++)
        assert_int_equal(is_dark(rgb + 3 * (8 * 17 + col)), col == 8);
    free(rgb);
    mlp_free(&m);
}

/* Code of z under m computed in float64 (pieces of all hidden neurons). */
static void ref_code(const mlp *m, const double *z, int *code)
{
    int H = m->cfg.width, L = m->cfg.depth, D = m->cfg.d, nc = 0;
    double *in = malloc(sizeof(double) * (D > H ? D : H)), *out = malloc(sizeof(double) * H);
    memcpy(in, z, sizeof(double) * D);
    for (int l = 0; l + 1 < L; l++) {
        int din = m->dims[l];
        const float *W = mlp_w(m, m->params, l), *b = mlp_b(m, m->params, l);
        for (int o = 0; o < H; o++) {
            double a = m->cfg.bias ? b[o] : 0;
            for (int i = 0; i < din; i++)
                a += (double)W[o * din + i] * in[i];
            code[nc++] = act_piece(m->cfg.act, a);
            out[o] = act_phi(m->cfg.act, a);
        }
        memcpy(in, out, sizeof(double) * H);
    }
    free(in);
    free(out);
}

static int cmp_codes(const void *a, const void *b, void *n)
{
    return memcmp(*(int *const *)a, *(int *const *)b, sizeof(int) * *(int *)n);
}

static void test_deep_against_reference(void **state)
{
    (void)state;
    const act_kind acts[2] = {ACT_RELU, ACT_HARDSIGMOID};
    for (int ai = 0; ai < 2; ai++) {
        mlp_config c = {.d = 5, .width = 8, .k = 3, .depth = 4, .act = acts[ai], .bias = 1,
                        .sigma_w2 = ai ? 20.0 : 2.0, .sigma_b2 = 0.2};
        sn_err e = {0};
        mlp m;
        assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
        rng r;
        rng_seed(&r, 42 + ai);
        mlp_init_params(&m, &r);
        float x[3][5];
        for (int t = 0; t < 3; t++)
            for (int j = 0; j < 5; j++)
                x[t][j] = (float)rng_normal(&r);
        const int res = 200, nc = 3 * 8;
        const double margin = 0.3;
        uint8_t *rgb = malloc(res * res * 3);
        slice_result sr;
        assert_int_equal(slice_render(&m, x[0], x[1], x[2], res, margin, rgb, &sr, &e), SN_OK);
        int *codes = malloc(sizeof(int) * nc * res * res);
        for (int row = 0; row < res; row++)
            for (int col = 0; col < res; col++) {
                double p, q, z[5];
                slice_pixel_coords(res, margin, col, row, &p, &q);
                for (int j = 0; j < 5; j++)
                    z[j] = x[0][j] + p * ((double)x[1][j] - x[0][j]) +
                           q * ((double)x[2][j] - x[0][j]);
                ref_code(&m, z, codes + (size_t)nc * (row * res + col));
            }
        int mismatch = 0, dark = 0;
        for (int row = 0; row < res; row++)
            for (int col = 0; col < res; col++) {
                if (in_anchor_mark(&sr, res, col, row))
                    continue;
                const int *k = codes + (size_t)nc * (row * res + col);
                int want = (col + 1 < res && memcmp(k, k + nc, sizeof(int) * nc)) ||
                           (row + 1 < res && memcmp(k, k + (size_t)nc * res, sizeof(int) * nc));
                dark += want;
                mismatch += is_dark(rgb + 3 * (row * res + col)) != want;
            }
        int **ptr = malloc(sizeof(int *) * res * res);
        for (int i = 0; i < res * res; i++)
            ptr[i] = codes + (size_t)nc * i;
        int ncn = nc;
        qsort_r(ptr, res * res, sizeof(int *), cmp_codes, &ncn);
        long distinct = 1;
        for (int i = 1; i < res * res; i++)
            distinct += cmp_codes(&ptr[i - 1], &ptr[i], &ncn) != 0;
        print_message("%s depth 4: %ld regions (reference %ld), %d boundary pixels, %d differ\n",
                      act_name(acts[ai]), sr.regions, distinct, dark, mismatch);
        assert_true(distinct > 20);
        assert_int_equal(sr.regions, distinct);
        assert_int_equal(mismatch, 0);
        free(ptr);
        free(codes);
        free(rgb);
        mlp_free(&m);
    }
}

static void test_no_hidden_layer(void **state)
{
    (void)state;
    mlp_config c = {.d = 2, .width = 4, .k = 3, .depth = 1, .act = ACT_RELU, .bias = 1,
                    .sigma_w2 = 1, .sigma_b2 = 0};
    sn_err e = {0};
    mlp m;
    assert_int_equal(mlp_init(&m, &c, &e), SN_OK);
    assert_int_equal(render_regions(&m, 64, 0.25, NULL), 1);
    mlp_free(&m);
}

static void test_bad_args(void **state)
{
    (void)state;
    double w[2] = {1, 0}, b[1] = {-0.5};
    mlp m;
    make_net(&m, ACT_RELU, 1, w, b);
    uint8_t rgb[64 * 64 * 3];
    slice_result r;
    sn_err e = {0};
    assert_int_equal(slice_render(&m, X1, X2, X3, 1, 0.25, rgb, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "resolution"));
    assert_int_equal(slice_render(&m, X1, X2, X3, 64, -0.1, rgb, &r, &e), SN_EARG);
    assert_int_equal(slice_render(&m, X1, X2, X3, 64, NAN, rgb, &r, &e), SN_EARG);
    const float on_line[2] = {2, 0}, nan_pt[2] = {NAN, 0};
    assert_int_equal(slice_render(&m, X1, X2, on_line, 64, 0.25, rgb, &r, &e), SN_EARG);
    assert_non_null(strstr(e.msg, "line"));
    assert_int_equal(slice_render(&m, X1, X1, X3, 64, 0.25, rgb, &r, &e), SN_EARG);
    assert_int_equal(slice_render(&m, X1, X2, nan_pt, 64, 0.25, rgb, &r, &e), SN_EARG);
    mlp_free(&m);
}

static int count_tmp_files(void)
{
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strstr(de->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void test_png_roundtrip(void **state)
{
    (void)state;
    double w[4] = {1, 0, 0, 1}, b[2] = {-0.5, -0.5};
    mlp m;
    make_net(&m, ACT_RELU, 2, w, b);
    const int res = 120;
    uint8_t *rgb;
    assert_int_equal(render_regions(&m, res, 0.25, &rgb), 4);
    slice_result r;
    sn_err e = {0};
    assert_int_equal(slice_render(&m, X1, X2, X3, res, 0.25, rgb, &r, &e), SN_OK);
    char path[128];
    snprintf(path, sizeof path, "%s/s.png", g_dir);
    for (int pass = 0; pass < 2; pass++) { /* the second pass overwrites */
        assert_int_equal(slice_write_png(path, rgb, res, res, &e), SN_OK);
        assert_int_equal(count_tmp_files(), 0);
    }

    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, path));
    assert_int_equal(img.width, res);
    assert_int_equal(img.height, res);
    assert_int_equal(img.format & PNG_FORMAT_FLAG_COLOR, PNG_FORMAT_FLAG_COLOR);
    img.format = PNG_FORMAT_RGB;
    uint8_t *back = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, back, 0, NULL));
    assert_memory_equal(back, rgb, (size_t)res * res * 3);
    /* the anchors' centres are black; the kink lines x = 0.5, y = 0.5 dark:
     * s = 1.5/119, p = 0.5 lies between columns 59 and 60 (59.5) */
    for (int t = 0; t < 3; t++) {
        const uint8_t *px = back + 3 * (r.anchor_px[t][1] * res + r.anchor_px[t][0]);
        assert_true(px[0] == 0 && px[1] == 0 && px[2] == 0);
    }
    assert_true(is_dark(back + 3 * (30 * res + 59)));
    assert_true(is_dark(back + 3 * (59 * res + 100)));
    assert_false(is_dark(back + 3 * (30 * res + 60)));
    assert_false(is_dark(back + 3 * (30 * res + 58)));
    free(back);

    /* a missing directory: SN_EIO, nothing created */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/nodir/s.png", g_dir);
    assert_int_equal(slice_write_png(bad, rgb, res, res, &e), SN_EIO);
    assert_non_null(strstr(e.msg, "nodir"));
    struct stat st;
    assert_int_not_equal(stat(bad, &st), 0);
    assert_int_equal(count_tmp_files(), 0);
    assert_int_equal(slice_write_png(path, rgb, 0, res, &e), SN_EARG);
    free(rgb);
    mlp_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_lines),
        cmocka_unit_test(test_tanh_sign_lines),
        cmocka_unit_test(test_two_kink_lines),
        cmocka_unit_test(test_stripes),
        cmocka_unit_test(test_plane_pixels),
        cmocka_unit_test(test_kink_lower_piece),
        cmocka_unit_test(test_deep_against_reference),
        cmocka_unit_test(test_no_hidden_layer),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_png_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
