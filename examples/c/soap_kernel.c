/*
 * The SOAP structure kernel between two structures, as used for similarity, kernel regression and
 * Gaussian process models:
 *
 *   k(A, B) = (1 / (N_A N_B)) sum_{i in A} sum_{j in B} (p_i . p_j)^zeta,
 *
 * with p the normalised SOAP power spectrum of each atom (atomfp_descriptor_compute) and zeta = 2,
 * and the normalised kernel K(A, B) = k(A, B) / sqrt(k(A, A) k(B, B)).
 *
 * Here A is diamond silicon, B the same crystal rotated and translated (K must be 1), and C a
 * rattled and sheared copy (K < 1). The program checks those facts and exits non-zero otherwise,
 * so it doubles as a test.
 */
#include <atomfp.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N_ATOMS 8
#define ZETA 2

static void fail(const char* what) {
    fprintf(stderr, "%s failed: %s\n", what, atomfp_last_error());
    exit(1);
}

/* Normalised power spectra of every atom: returns [N_ATOMS][n_features], caller frees. */
static double* power_spectra(const atomfp_descriptor_t* d, const double* positions, const double* cell) {
    const int32_t species[N_ATOMS] = {14, 14, 14, 14, 14, 14, 14, 14};
    double cutoff;
    int64_t nf;
    atomfp_descriptor_cutoff(d, &cutoff);
    atomfp_descriptor_feature_count(d, &nf);
    atomfp_neighbours_t* list = NULL;
    atomfp_system_t system;
    if (atomfp_neighbours_build(N_ATOMS, positions, species, cell, NULL, cutoff, &list) != ATOMFP_OK) fail("neighbours_build");
    atomfp_neighbours_system(list, &system);
    double* features = malloc(sizeof(double) * N_ATOMS * nf);
    if (atomfp_descriptor_compute(d, &system, features, NULL) != ATOMFP_OK) fail("descriptor_compute");
    atomfp_neighbours_free(list);
    return features;
}

static double structure_kernel(const double* a, const double* b, int64_t nf) {
    double sum = 0.0;
    for (int i = 0; i < N_ATOMS; ++i) {
        for (int j = 0; j < N_ATOMS; ++j) {
            double dot = 0.0;
            for (int64_t f = 0; f < nf; ++f) dot += a[i * nf + f] * b[j * nf + f];
            sum += pow(dot, ZETA);
        }
    }
    return sum / (N_ATOMS * N_ATOMS);
}

static double normalised_kernel(const double* a, const double* b, int64_t nf) {
    return structure_kernel(a, b, nf) / sqrt(structure_kernel(a, a, nf) * structure_kernel(b, b, nf));
}

int main(void) {
    const char* spec =
        "{\"type\": \"soap_power_spectrum\", \"species\": [14], \"cutoff\": 5.0, \"atomic_gaussian_width\": 0.5,"
        " \"max_radial\": 8, \"max_angular\": 6}";
    atomfp_descriptor_t* d = NULL;
    if (atomfp_descriptor_create(spec, &d) != ATOMFP_OK) fail("descriptor_create");
    int64_t nf;
    atomfp_descriptor_feature_count(d, &nf);

    /* A: the conventional 8-atom cubic cell of diamond Si. */
    const double a0 = 5.431;
    const double fractional[N_ATOMS][3] = {{0, 0, 0},       {0, 0.5, 0.5},    {0.5, 0, 0.5},    {0.5, 0.5, 0},
                                           {0.25, 0.25, 0.25}, {0.25, 0.75, 0.75}, {0.75, 0.25, 0.75}, {0.75, 0.75, 0.25}};
    double cell_a[9] = {a0, 0, 0, 0, a0, 0, 0, 0, a0}, pos_a[3 * N_ATOMS];
    for (int i = 0; i < N_ATOMS; ++i)
        for (int k = 0; k < 3; ++k) pos_a[3 * i + k] = a0 * fractional[i][k];

    /* B: A rotated by 30 degrees about z and translated. */
    const double c = cos(M_PI / 6), s = sin(M_PI / 6);
    const double rotation[9] = {c, -s, 0, s, c, 0, 0, 0, 1};
    double cell_b[9], pos_b[3 * N_ATOMS];
    for (int v = 0; v < 3; ++v)
        for (int k = 0; k < 3; ++k)
            cell_b[3 * v + k] = rotation[3 * k] * cell_a[3 * v] + rotation[3 * k + 1] * cell_a[3 * v + 1] + rotation[3 * k + 2] * cell_a[3 * v + 2];
    for (int i = 0; i < N_ATOMS; ++i)
        for (int k = 0; k < 3; ++k)
            pos_b[3 * i + k] = 1.7 + rotation[3 * k] * pos_a[3 * i] + rotation[3 * k + 1] * pos_a[3 * i + 1] +
                               rotation[3 * k + 2] * pos_a[3 * i + 2];

    /* C: A sheared by 4 % and rattled by up to 0.1 Å. */
    double cell_c[9] = {a0, 0, 0, 0.04 * a0, a0, 0, 0, 0, a0}, pos_c[3 * N_ATOMS];
    srand(7);
    for (int i = 0; i < N_ATOMS; ++i)
        for (int k = 0; k < 3; ++k) {
            double x = 0.0;
            for (int v = 0; v < 3; ++v) x += fractional[i][v] * cell_c[3 * v + k];
            pos_c[3 * i + k] = x + 0.1 * (2.0 * rand() / RAND_MAX - 1.0);
        }

    double* pa = power_spectra(d, pos_a, cell_a);
    double* pb = power_spectra(d, pos_b, cell_b);
    double* pc = power_spectra(d, pos_c, cell_c);
    const double k_ab = normalised_kernel(pa, pb, nf), k_ac = normalised_kernel(pa, pc, nf);
    const double k_ca = normalised_kernel(pc, pa, nf), k_cc = normalised_kernel(pc, pc, nf);
    printf("SOAP power spectrum: %lld features per atom (n_max = 8, l_max = 6, r_c = 5 A, zeta = %d)\n", (long long)nf, ZETA);
    printf("K(diamond, rotated + translated diamond) = %.15f\n", k_ab);
    printf("K(diamond, sheared + rattled diamond)    = %.15f\n", k_ac);
    printf("K(sheared, sheared)                      = %.15f\n", k_cc);

    int status = 0;
    if (fabs(k_ab - 1.0) > 1e-12) { fprintf(stderr, "rotation changed the kernel\n"); status = 1; }
    if (!(k_ac < 1.0 - 1e-4)) { fprintf(stderr, "a distorted crystal should be less similar\n"); status = 1; }
    if (fabs(k_ac - k_ca) > 1e-14) { fprintf(stderr, "the kernel is not symmetric\n"); status = 1; }
    if (fabs(k_cc - 1.0) > 1e-14) { fprintf(stderr, "the normalised self-kernel is not 1\n"); status = 1; }
    free(pa);
    free(pb);
    free(pc);
    atomfp_descriptor_free(d);
    return status;
}
