/*
 * atomfp: atomic-environment fingerprints, their gradients, and models built on them.
 *
 * This is the whole public C API (C99). Conventions that hold for every function:
 *
 *  - Every function returns an atomfp_status_t. ATOMFP_OK (0) is success; on failure the outputs
 *    and handles passed in are left untouched and atomfp_last_error() describes the problem.
 *  - Handles are opaque and created through an out-argument; atomfp_*_free(NULL) is a no-op.
 *  - Sizes and indices are int64_t, reals are double, species are atomic numbers (int32_t).
 *    Arrays are C row-major; each array's shape is written next to it. Lengths are in Å and
 *    energies in eV.
 *  - Buffers belong to the caller. The library never keeps a pointer to caller memory after a call
 *    returns. Strings are copied into caller buffers; a buffer that is too small gives
 *    ATOMFP_ERROR_BUFFER_TOO_SMALL and the required length (terminating NUL included).
 *  - A NULL optional output means "do not compute this".
 *  - Descriptor handles are immutable after creation: concurrent atomfp_descriptor_compute calls on
 *    one handle from several threads are safe. Each call parallelises over centres with OpenMP.
 *  - How a caller learns the size of an output (one rule, for every function):
 *      sizes that follow from a handle or from the inputs have a query function
 *      (atomfp_descriptor_feature_count, the offsets of atomfp_neighbours_system, ...) and the
 *      caller allocates; variable-length results (strings, species lists, manifold frames) take a
 *      buffer, its capacity and a pointer that receives the required size: a capacity that is too
 *      small (0 with a NULL buffer, to ask) gives ATOMFP_ERROR_BUFFER_TOO_SMALL and the size.
 *  - "@since X.Y" names the version a function appeared in; a function to be removed is marked
 *    ATOMFP_DEPRECATED (a compiler warning naming its replacement) for at least one minor version.
 */
#ifndef ATOMFP_H
#define ATOMFP_H

#include <stdint.h>

#include "atomfp_version.h"

#if defined(ATOMFP_BUILDING_LIBRARY) && defined(__GNUC__)
#define ATOMFP_API __attribute__((visibility("default")))
#else
#define ATOMFP_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ATOMFP_DEPRECATED(replacement) __attribute__((deprecated("use " replacement " instead")))
#else
#define ATOMFP_DEPRECATED(replacement)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes and errors
 * ------------------------------------------------------------------------------------------- */

typedef int32_t atomfp_status_t;

/* Values are append-only: new codes get new numbers, existing numbers never change meaning. */
enum {
    ATOMFP_OK = 0,
    ATOMFP_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, NaN, out-of-range value, coincident atoms */
    ATOMFP_ERROR_JSON = 2,             /* malformed JSON, unknown key, wrong type or value */
    ATOMFP_ERROR_BUFFER_TOO_SMALL = 3, /* caller buffer too small; the required size is returned */
    ATOMFP_ERROR_NEIGHBOURS = 4,       /* inconsistent neighbour list (offsets, indices, shifts) */
    ATOMFP_ERROR_IO = 5,               /* a file could not be opened, read or written */
    ATOMFP_ERROR_FORMAT = 6,           /* a file's content is malformed */
    ATOMFP_ERROR_LINALG = 7,           /* a linear-algebra routine failed */
    ATOMFP_ERROR_OUT_OF_MEMORY = 8,
    ATOMFP_ERROR_SPECIES = 9,          /* an atom's species is not handled by this descriptor/model */
    ATOMFP_ERROR_NOT_AVAILABLE = 10,   /* the model does not carry what was asked (e.g. a variance) */
    ATOMFP_ERROR_INTERNAL = 255        /* a bug in atomfp: please report it with the message */
};

/* The message of the last failed call on the calling thread ("" if none). The pointer stays valid
 * until the next failing atomfp call on the same thread. @since 0.1 */
ATOMFP_API const char* atomfp_last_error(void);

/* A short constant name for a status code, e.g. "ATOMFP_ERROR_JSON"; never NULL. @since 0.1 */
ATOMFP_API const char* atomfp_status_name(atomfp_status_t status);

/* The version of the library that is linked (which may differ from ATOMFP_VERSION_* of the header
 * a program was compiled with). Any of the pointers may be NULL. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_version(int* major, int* minor, int* patch);
/* @since 0.1 */
ATOMFP_API const char* atomfp_version_string(void);

/* Which copy of the vectorised kernels runs on this CPU: "avx2" or "baseline" (SSE2, every x86-64),
 * or "baseline (dispatch disabled)" for a build without run-time dispatch. For performance reports.
 * @since 0.1 */
ATOMFP_API const char* atomfp_simd_kernels(void);

/* ---------------------------------------------------------------------------------------------
 * Atoms and neighbour lists
 * ------------------------------------------------------------------------------------------- */

/*
 * A borrowed, read-only view of atoms and a caller-owned full neighbour list. Nothing is kept
 * after the call that reads it.
 *
 *  n_atoms       number of atoms: local atoms first, then any ghost/padding atoms (LAMMPS/KIM)
 *  positions     [n_atoms][3] Cartesian positions, Å
 *  species       [n_atoms] atomic numbers
 *  cell          [3][3] lattice vectors as rows, Å, or NULL (needed when cell_shifts is given)
 *  n_centers     number of atoms whose environments are described
 *  centers       [n_centers] atom indices (0-based)
 *  offsets       [n_centers + 1] CSR offsets into neighbours; offsets[0] == 0, non-decreasing
 *  neighbours    [offsets[n_centers]] atom indices of every neighbour j of every centre (full list)
 *  cell_shifts   [offsets[n_centers]][3] integer image shifts, or NULL for all zero:
 *                r_ij = x_j - x_i + shift . cell
 *
 * Pairs beyond a descriptor's cutoff are ignored, so lists built with a skin are fine. Several
 * images of one atom are distinct pairs. Two atoms closer than 1e-8 Å are an error.
 */
typedef struct atomfp_system_t {
    int64_t n_atoms;
    const double* positions;
    const int32_t* species;
    const double* cell;
    int64_t n_centers;
    const int64_t* centers;
    const int64_t* offsets;
    const int64_t* neighbours;
    const int32_t* cell_shifts;
} atomfp_system_t;

typedef struct atomfp_neighbours_t atomfp_neighbours_t;

/*
 * Build a full neighbour list (every pair with r_ij < cutoff, both directions) with cell lists in
 * O(n_atoms) time. Periodic images are expressed as cell_shifts (no ghost atoms), so a cell
 * smaller than the cutoff gives many images of one atom; skewed cells are handled exactly.
 *
 *  positions  [n_atoms][3] Å; need not lie inside the cell
 *  species    [n_atoms] atomic numbers (copied into the list's system view)
 *  cell       [3][3] lattice vectors as rows, or NULL for an open cluster
 *  pbc        [3] non-zero for periodic directions, or NULL: all periodic if cell is given
 *  cutoff     > 0, Å
 *
 * In the resulting list every atom is a centre (centers[i] == i) and each centre's neighbours are
 * sorted by atom index, then by image shift.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_neighbours_build(int64_t n_atoms, const double* positions,
                                                   const int32_t* species, const double* cell,
                                                   const int32_t* pbc, double cutoff,
                                                   atomfp_neighbours_t** out);

/* Fill *view with pointers into the list; they stay valid while the handle lives. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_neighbours_system(const atomfp_neighbours_t* list,
                                                    atomfp_system_t* view);

/* @since 0.1 */
ATOMFP_API void atomfp_neighbours_free(atomfp_neighbours_t* list);

/* ---- structures from files ------------------------------------------------------------------ */

/*
 * The frames of an extended XYZ file (as ASE writes it), for hosts that need reference structures.
 * ATOMFP_ERROR_IO if the file cannot be read, ATOMFP_ERROR_FORMAT (naming the line) if it is
 * malformed.
 */
typedef struct atomfp_frames_t atomfp_frames_t;

/* @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_frames_read(const char* path, atomfp_frames_t** out);
/* @since 0.1 */
ATOMFP_API void atomfp_frames_free(atomfp_frames_t* frames);
/* @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_frames_count(const atomfp_frames_t* frames, int64_t* n_frames);

/* Frame `index` (0-based): pointers into the handle, valid while it lives; any output may be NULL.
 *  positions [n_atoms][3] Å, species [n_atoms] atomic numbers, cell [3][3] rows or NULL when the
 *  frame has no lattice, pbc [3] (0 or 1). @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_frames_get(const atomfp_frames_t* frames, int64_t index, int64_t* n_atoms,
                                             const double** positions, const int32_t** species,
                                             const double** cell, const int32_t** pbc);

/* ---------------------------------------------------------------------------------------------
 * Descriptors
 * ------------------------------------------------------------------------------------------- */

typedef struct atomfp_descriptor_t atomfp_descriptor_t;

/* Create a descriptor from a JSON specification such as
 *   {"type": "acsf", "species": [14], "cutoff": 6.0}
 * Keys are validated strictly: an unknown key, a wrong type or an out-of-range value is an
 * ATOMFP_ERROR_JSON that names the key. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_create(const char* json, atomfp_descriptor_t** out);

/* @since 0.1 */
ATOMFP_API void atomfp_descriptor_free(atomfp_descriptor_t* descriptor);

/* Every descriptor type as a JSON array of {"type", "summary", "parameters"}, where "parameters"
 * is the canonical specification of a small example: every key the type reads, with its default.
 * Strings as atomfp_descriptor_parameters. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_types(char* buffer, int64_t buffer_len, int64_t* required_len);

/* The canonical JSON specification with every default filled in. Creating a descriptor from it
 * gives an identical descriptor. required_len (may be NULL) receives strlen + 1. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_parameters(const atomfp_descriptor_t* descriptor,
                                                        char* buffer, int64_t buffer_len,
                                                        int64_t* required_len);

/* @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_feature_count(const atomfp_descriptor_t* descriptor,
                                                           int64_t* n_features);

/* The largest distance at which a neighbour changes the features, Å. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_cutoff(const atomfp_descriptor_t* descriptor,
                                                    double* cutoff);

/* A human-readable label of feature `index` (0-based), e.g. "G2[Si](eta=0.0278,r_s=0)". @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_descriptor_feature_label(const atomfp_descriptor_t* descriptor,
                                                           int64_t index, char* buffer,
                                                           int64_t buffer_len,
                                                           int64_t* required_len);

/*
 * Compute features and, optionally, their gradients.
 *
 *  features   [n_centers][n_features], or NULL
 *  gradients  [n_centers + offsets[n_centers]][3][n_features], or NULL. Centre c owns the
 *             1 + (offsets[c+1] - offsets[c]) consecutive blocks starting at c + offsets[c]:
 *             first dF_c/dx_c (x_c the centre's own position in every r_cj), then dF_c/dx_j for
 *             each listed pair in order (zero beyond the cutoff). Summing the blocks per atom
 *             index gives the total derivative, which makes this exact with ghost atoms and with
 *             periodic images of the centre.
 *
 * The whole input is checked before anything is written (every environment is built once: ranges,
 * finite separations, coincident atoms, species, descriptor limits), so on failure both outputs
 * are untouched. Two failures can only happen later and may leave them partly written:
 * ATOMFP_ERROR_OUT_OF_MEMORY, and ATOMFP_ERROR_LINALG from an eigensolver that does not converge
 * (the OMFP; not seen for input that passes the checks).
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_descriptor_compute(const atomfp_descriptor_t* descriptor,
                                                     const atomfp_system_t* system,
                                                     double* features, double* gradients);

/*
 * Forces for a model of one's own: the vector-Jacobian product of the features with the model's
 * energy derivatives, without forming the feature gradients. For an energy E(F) of the features,
 *
 *  energy_derivatives  [n_centers][n_features] dE/dF_cf (finite)
 *  features            [n_centers][n_features] out, or NULL: the features, as atomfp_descriptor_compute
 *  forces              [n_atoms][3] out, or NULL: -dE/dx = -sum_cf dE/dF_cf dF_cf/dx for every atom,
 *                      ghosts included (fold them back onto their owners, as for atomfp_model_predict)
 *  virial              [3][3] out, or NULL: W = -sum over pairs of r_ij (x) dE/dr_ij, eV
 *
 * Memory is that of the features and one 3-vector per gradient block, not [..][3][n_features]:
 * a model that computes dE/dF from the features calls atomfp_descriptor_compute for the features,
 * then this; the weights may also come from any other source (a collective variable's dS/dF).
 * Errors as for atomfp_descriptor_compute; outputs are untouched on a failed check.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_descriptor_contract(const atomfp_descriptor_t* descriptor,
                                                      const atomfp_system_t* system,
                                                      const double* energy_derivatives,
                                                      double* features, double* forces,
                                                      double* virial);

/* ---- sensitivity analysis ------------------------------------------------------------------- */

/*
 * The sensitivity of one centre's features to the motion of its environment: the centre (first)
 * plus every neighbour strictly inside the descriptor's cutoff, in list order, N atoms in all
 * (a periodic image is its own atom). J is the Jacobian [n_features][3N] of the centre's features
 * with respect to their Cartesian positions and S = J^T J [3N][3N] (Parsaeifard & Goedecker 2022).
 *
 * Flags (bitwise or):
 *  ATOMFP_SENSITIVITY_REMOVE_RIGID  project out the rigid-body modes: 3 translations and 3 rotations
 *                                   about the centre (fewer for collinear atoms).
 *  ATOMFP_SENSITIVITY_SCALE_MAX     divide by the largest eigenvalue, so that it becomes 1.
 * `center` indexes the system's centres (0 <= center < n_centers).
 */
#define ATOMFP_SENSITIVITY_REMOVE_RIGID 1
#define ATOMFP_SENSITIVITY_SCALE_MAX 2

/* N, the number of environment atoms of `center` (the centre included). @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_sensitivity_size(const atomfp_descriptor_t* descriptor,
                                                   const atomfp_system_t* system, int64_t center,
                                                   int64_t* n_env_atoms);

/* S [3N][3N], row-major; with REMOVE_RIGID, P S P with P the projector off the rigid modes. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_sensitivity_matrix(const atomfp_descriptor_t* descriptor,
                                                     const atomfp_system_t* system, int64_t center,
                                                     int32_t flags, double* sensitivity);

/*
 * The blind-spot index of every centre (docs/sensitivity.md): index [n_centers] = the smallest
 * non-rigid eigenvalue of S over the largest (0 where some motion of the atoms leaves the
 * fingerprint unchanged, a configuration on which a model of this descriptor cannot tell
 * structures apart), and optionally below [n_centers] = the number of non-rigid eigenvalues below
 * threshold x the largest (e.g. 1e-6; 0 <= threshold < 1). Centres are independent and computed
 * in parallel. An environment of a single atom has index 0 and no non-rigid modes.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_blind_spot_indices(const atomfp_descriptor_t* descriptor,
                                                     const atomfp_system_t* system, double threshold,
                                                     double* index, int64_t* below);

/*
 * Eigenvalues of S in ascending order, eigenvalues [3N], and optionally the eigenvectors,
 * eigenvectors [3N][3N] (row k belongs to eigenvalue k; NULL to skip). With REMOVE_RIGID the
 * rigid modes come first with eigenvalue exactly 0 and the rigid modes as eigenvectors, followed
 * by the ascending spectrum of S on the rigid-free displacements, so 3N stays the array size.
 * S is positive semi-definite, so rounding-level negative eigenvalues are reported as 0. The
 * singular values of J are the square roots of the eigenvalues of S.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_sensitivity_spectrum(const atomfp_descriptor_t* descriptor,
                                                       const atomfp_system_t* system,
                                                       int64_t center, int32_t flags,
                                                       double* eigenvalues, double* eigenvectors);

/*
 * A manifold of quasi-constant fingerprint (Parsaeifard & Goedecker 2022): from the environment of
 * `center` (as in atomfp_sensitivity_size, N atoms, taken as an open cluster), repeatedly step
 * along the softest non-rigid eigenvector of S with a predictor-corrector step and step control,
 * until a step limit or until the path returns to the start. Every frame records
 *  - D, the largest atomic deviation from frame 0 after superposition (translation, rotation and,
 *    by default, relabelling of like neighbours; the centre keeps its label), Å,
 *  - |F_k - F_0| for the traced descriptor and for each probe descriptor (evaluated on the same N
 *    atoms),
 *  - the mean of |F(x_0 + r) - F_0| over random rigid-free displacements r whose largest atomic
 *    move is D (the same directions at every frame, from a fixed seed), per descriptor,
 *  - the spectrum of S for the traced descriptor (rigid modes first as exact zeros; by default
 *    scaled so that the largest eigenvalue is 1).
 *
 *  options     JSON object or NULL/"" for the defaults; keys: steps (400), step (0.002 Å, largest
 *              atomic move of the first step), min_step (1e-5), max_step (0.01), tolerance (0.01),
 *              mode (0: the softest), scale_max (true), stop_at_loop (true), loop_tolerance
 *              (0.01 Å), random_samples (20), seed (1), permutations (true); see docs/sensitivity.md
 *  probes      [n_probes] descriptors, or NULL when n_probes == 0
 *  max_frames  capacity of the frame arrays; it must be at least steps + 1, otherwise the call
 *              fails with ATOMFP_ERROR_BUFFER_TOO_SMALL and *n_frames = steps + 1
 *  n_frames    frames written (steps + 1, or fewer when the path closed)
 *  species     NULL or [N] atomic numbers of the environment atoms, centre first
 *  positions   NULL or [max_frames][N][3]; frame 0 has the centre at the origin
 *  eigenvalues NULL or [max_frames][3N]
 *  displacement      NULL or [max_frames]
 *  distances         NULL or [max_frames][1 + n_probes], the traced descriptor first
 *  random_distances  NULL or [max_frames][1 + n_probes]
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_manifold_trace(const atomfp_descriptor_t* descriptor, int64_t n_probes,
                                                 const atomfp_descriptor_t* const* probes,
                                                 const atomfp_system_t* system, int64_t center,
                                                 const char* options, int64_t max_frames,
                                                 int64_t* n_frames, int32_t* species,
                                                 double* positions, double* eigenvalues,
                                                 double* displacement, double* distances,
                                                 double* random_distances);

/* ---------------------------------------------------------------------------------------------
 * Feature-space analysis
 * ------------------------------------------------------------------------------------------- */

/*
 * How well two feature matrices of the same samples reconstruct each other (Goscinski's thesis,
 * eqs 2.1-2.7, 2.17; docs/feature_space.md). Both are standardised (centred, |X|^2 / n = 1), split
 * 2-fold into train and test halves, and regressed linearly with a truncated SVD whose cutoff is
 * chosen by an inner 2-fold cross-validation.
 *
 *  a [n_samples][n_features_a], b [n_samples][n_features_b]
 *  options   JSON object or NULL/"": seed (1), relative_cutoff (chosen when absent),
 *            lfre_neighbours (15; 0 skips the LFRE)
 *  gfre      [2]: GFRE(a -> b), GFRE(b -> a)             gfrd [2]: GFRD(a, b), GFRD(b, a)
 *  lfre      [2] or NULL                                  n_test: the test-set size
 *  pointwise [2][n_test] or NULL: |x'_i - x_i P| per test sample, a -> b then b -> a; query n_test
 *            first with pointwise NULL (it is (n_samples) / 2 rounded down)
 * Mismatched sample counts, fewer than 4 samples, non-finite values and all-constant matrices are
 * ATOMFP_ERROR_INVALID_ARGUMENT.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_feature_space_compare(int64_t n_samples, int64_t n_features_a, const double* a,
                                                        int64_t n_features_b, const double* b, const char* options,
                                                        double* gfre, double* gfrd, double* lfre, double* pointwise,
                                                        int64_t* n_test);

/*
 * Chooses n_select columns (features) or rows (samples) of x [n_samples][n_features], standardised:
 *  method  "cur"           deterministic CUR of the features (may stop early at the matrix's rank)
 *          "fps_features"  farthest-point sampling of the features
 *          "fps_samples"   farthest-point sampling of the samples
 *  selected [n_select] receives 0-based indices in selection order, n_selected how many.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_feature_select(int64_t n_samples, int64_t n_features, const double* x,
                                                 const char* method, int64_t n_select, int64_t* selected,
                                                 int64_t* n_selected);

/* ---------------------------------------------------------------------------------------------
 * Kernel models
 * ------------------------------------------------------------------------------------------- */

/*
 * A kernel model of the energy, E = sum over centres of e_c, e_c = baseline[s] + sum_m w_m k(F_c, S_m)
 * over the reference environments of the centre's species s (docs/model_file.md). Model handles are
 * immutable: concurrent atomfp_model_predict calls on one handle are safe.
 */
typedef struct atomfp_model_t atomfp_model_t;

/* Reads a model file; ATOMFP_ERROR_IO if it cannot be read, ATOMFP_ERROR_FORMAT if it is not an
 * intact model file of a version this library reads (truncated, corrupted, newer). @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_model_load(const char* path, atomfp_model_t** out);
/* @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_model_save(const atomfp_model_t* model, const char* path);
/* @since 0.1 */
ATOMFP_API void atomfp_model_free(atomfp_model_t* model);

/* The descriptor cutoff, Å: neighbour lists need every pair closer than this. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_model_cutoff(const atomfp_model_t* model, double* cutoff);

/* The central species the model has weights for: *n_species is set to their number; species
 * [capacity] receives them (ATOMFP_ERROR_BUFFER_TOO_SMALL if capacity < *n_species; species may be
 * NULL when capacity is 0). @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_model_species(const atomfp_model_t* model, int32_t* species,
                                                int64_t capacity, int64_t* n_species);

/* The model file's JSON header (docs/model_file.md) without the writer's version: descriptor,
 * kernel, units, species blocks and the metadata of its fit (settings, training files with their
 * SHA-256, structures per config_type, training and cross-validation errors, library version,
 * date). Strings as atomfp_descriptor_parameters. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_model_header(const atomfp_model_t* model, char* buffer, int64_t buffer_len,
                                               int64_t* required_len);

/*
 * Predicts for every centre of `system` (each optional, NULL to skip):
 *  energy           the sum of the centres' energies, eV
 *  center_energies  [n_centers], eV
 *  forces           [n_atoms][3], eV/Å: -dE/dx for every atom of the system, ghosts included (a
 *                   host folds ghost forces back onto their owners, as KIM and LAMMPS do)
 *  virial           [3][3], eV: W = -dE/d(strain) = -sum over pairs of r_ij (x) dE/dr_ij; the
 *                   stress is -W / volume
 * A centre whose species the model has no weights for is ATOMFP_ERROR_SPECIES.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_model_predict(const atomfp_model_t* model, const atomfp_system_t* system,
                                                double* energy, double* center_energies,
                                                double* forces, double* virial);

/*
 * Extrapolation flags, as n2p2 warns: for every centre, the number of its features outside the
 * range they took over the training environments of its species (features_outside
 * [n_centers]), and the largest excess beyond that range in units of the range's width
 * (largest_excess [n_centers], optional; 0 inside the range). A model whose file predates
 * format version 3 is ATOMFP_ERROR_NOT_AVAILABLE.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_model_extrapolation(const atomfp_model_t* model, const atomfp_system_t* system,
                                                      int64_t* features_outside, double* largest_excess);

/*
 * The posterior variance (eV²) of the model's energies for every centre of `system` (each output
 * optional, NULL to skip):
 *  center_variances  [n_centers]: of each centre's local energy
 *  energy_variance   of the total energy (the full quadratic form over the centres)
 * Projected-process approximation of the sparse GPR (docs/models.md, "Predictive variance"),
 * scaled by the model's calibrated prior scale. A model without a posterior covariance (kernel
 * ridge regression, fitted with "predictive_variance": false, or a file older than format
 * version 3) is ATOMFP_ERROR_NOT_AVAILABLE.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_model_predict_variance(const atomfp_model_t* model, const atomfp_system_t* system,
                                                         double* center_variances, double* energy_variance);

/*
 * The derivatives of U = sum over centres c of coefficients[c] * Var e_c (coefficients
 * [n_centers], finite; Var e_c as atomfp_model_predict_variance gives them), each output optional:
 *  gradient  [n_atoms][3], eV²/Å: +dU/dx for every atom of the system, ghosts included (fold them
 *            back onto their owners as for forces)
 *  virial    [3][3], eV²: W = -dU/d(strain), the convention of atomfp_model_predict's virial
 * What a bias on the uncertainty needs: for the mean variance of the centres give 1/n_centers
 * each, for a soft maximum the softmax weights. Errors as atomfp_model_predict_variance; a NULL or
 * non-finite coefficient is ATOMFP_ERROR_INVALID_ARGUMENT.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_model_variance_gradient(const atomfp_model_t* model, const atomfp_system_t* system,
                                                          const double* coefficients, double* gradient, double* virial);

/* ---------------------------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------------------------- */

/*
 * Collects training structures and fits a kernel model: sparse GPR on energies, forces and virials
 * or kernel ridge regression on energies, as the JSON configuration says (the keys of
 * `atomfp fit --config`, docs/models.md). Not thread-safe: one thread per trainer.
 */
typedef struct atomfp_trainer_t atomfp_trainer_t;

/* The configuration is validated here: unknown keys and bad values are ATOMFP_ERROR_JSON. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_trainer_create(const char* config_json, atomfp_trainer_t** out);
/* @since 0.1 */
ATOMFP_API void atomfp_trainer_free(atomfp_trainer_t* trainer);

/*
 * Adds one structure (copied):
 *  positions  [n_atoms][3] Å          species  [n_atoms] atomic numbers
 *  cell       [3][3] rows, or NULL for an open cluster; pbc [3] or NULL (all periodic with a cell)
 *  energy     eV, or NULL            forces   [n_atoms][3] eV/Å, or NULL
 *  virial     [3][3] eV (W = -dE/d strain), or NULL
 * Non-finite numbers and n_atoms < 1 are ATOMFP_ERROR_INVALID_ARGUMENT; species the descriptor
 * does not handle are reported by atomfp_trainer_train.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_trainer_add_structure(atomfp_trainer_t* trainer, int64_t n_atoms,
                                                        const double* positions, const int32_t* species,
                                                        const double* cell, const int32_t* pbc,
                                                        const double* energy, const double* forces,
                                                        const double* virial);

/*
 * Sets the keys that weight structure `index` (0-based, in the order added) in the fit, as the
 * comment line of an extended-XYZ file does for `atomfp fit`: a JSON object with any of
 *   "config_type": "slab"   (selects the configuration's config_type_sigma, and groups errors)
 *   "energy_sigma", "force_sigma", "virial_sigma": positive numbers (eV/atom, eV/Å, eV/atom)
 * Keys not given keep their values. An index out of range is ATOMFP_ERROR_INVALID_ARGUMENT; other
 * keys, wrong types and sigmas that are not positive are ATOMFP_ERROR_JSON.
 * @since 0.1
 */
ATOMFP_API atomfp_status_t atomfp_trainer_set_structure_keys(atomfp_trainer_t* trainer, int64_t index,
                                                             const char* keys_json);

/* Number of structures added so far. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_trainer_size(const atomfp_trainer_t* trainer, int64_t* n_structures);

/* Fits on every structure added and returns a new model (free it with atomfp_model_free). The
 * trainer keeps its structures: fitting again gives the same model. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_trainer_train(atomfp_trainer_t* trainer, atomfp_model_t** out);

/* The last fit's summary as JSON (numbers of rows and references, baselines, training errors);
 * ATOMFP_ERROR_INVALID_ARGUMENT before the first fit. Strings as atomfp_descriptor_parameters. @since 0.1 */
ATOMFP_API atomfp_status_t atomfp_trainer_summary(const atomfp_trainer_t* trainer, char* buffer,
                                                  int64_t buffer_len, int64_t* required_len);

#ifdef __cplusplus
}
#endif

#endif /* ATOMFP_H */
