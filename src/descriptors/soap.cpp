#include "descriptors/soap.hpp"

#include "core/blas.hpp"
#include "core/simd.hpp"
#include "core/small_kernels.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/scratch.hpp"
#include "core/special_functions.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

namespace atomfp {

// ---- shared driver ---------------------------------------------------------------------------

class SoapFamilyDescriptor::SoapWorkspace final : public Descriptor::Workspace {
public:
    NeighbourFactors factors;
    std::vector<double> coefficients;  // [lm][channel]
    // Grow-only scratch of the invariants: dc/dr of one neighbour (spherical expansion), dot
    // products and staging (power spectrum), partial derivatives, angular columns and their dot
    // products (bispectrum).
    std::vector<double> coefficient_gradients, dot_products, staging, partials, angular_columns;
    // Contraction scratch: weights after the normalisation's projection, and dE/dc.
    std::vector<double> projected_weights, coefficient_weights;
    std::vector<double*> blocks;  // per neighbour: its [3][n_features] gradient block
    // Projection scratch: per species group its gathered rows and their products with S; the
    // unnormalised blocks of one environment; the batch's features, their products with S, and
    // per row its group, place and F . dp.
    std::vector<std::vector<double>> group_rows, group_products;
    std::vector<double> raw_blocks, batch_features, feature_products, row_along, inverse_norms;
    std::vector<int64_t> row_group, row_place;
};

// The fixed vectors split by neighbour species: group g gathers the features a neighbour of its
// species can move (all of them with one species or the mixed basis) and S restricted to them.
class SoapFamilyDescriptor::SpeciesProjection final : public Descriptor::Projection {
public:
    SpeciesProjection(const SoapFamilyDescriptor& descriptor, int64_t m, const double* S)
        : Projection(m, S, descriptor.feature_count()) {
        const DensityExpansion& expansion = descriptor.expansion_;
        const int64_t nf = descriptor.feature_count();
        const int groups = expansion.mixed_species() ? 1 : expansion.n_species();
        const int N = expansion.n_radial();
        support.resize(groups);
        restricted.resize(groups);
        for (int g = 0; g < groups; ++g) {
            for (int64_t f = 0; f < nf; ++f)
                if (groups == 1 || descriptor.feature_uses_channels(f, g * N, N)) support[g].push_back(f);
            const int64_t width = static_cast<int64_t>(support[g].size());
            restricted[g].resize(static_cast<std::size_t>(m) * width);
            for (int64_t j = 0; j < m; ++j)
                for (int64_t c = 0; c < width; ++c) restricted[g][j * width + c] = S[j * nf + support[g][c]];
        }
    }
    int group_of(int species_index) const { return support.size() == 1 ? 0 : species_index; }

    std::vector<std::vector<int64_t>> support;   // [group]: feature indices, increasing
    std::vector<std::vector<double>> restricted;  // [group][m][support size]
};

namespace {

// No SOAP-family descriptor has more features than this (a power spectrum of 118 species with 128
// radial functions would have billions).
constexpr std::size_t max_soap_features = 1000000;

// The bispectrum's Gaunt coefficients cost ~l_max^7 to build: 0.02 s at 10, 1.1 s at 20 on one
// core (and twenty times that under the sanitizers); bispectra in use stay below 10.
constexpr int max_bispectrum_angular = 10;

// One neighbour's contracted 3-vector g = sum_{l,n} [dR_ln u A_ln + R_ln B_ln] with
// A_ln = sum_m e_lm,n Y_lm and B_ln = sum_m e_lm,n grad Y_lm, where e [lm][K] = dE/dc starts at the
// neighbour's first channel. With Radial > 0 the number of radial functions is a compile-time
// constant and the 4 Radial partial sums stay in registers; Radial = 0 uses n_radial and `sums`.
template <int Radial>
void contract_neighbour(const double* e, int K, int L1, int n_radial, const double* Y, const double* dY, const double* R,
                        const double* dR, const double* u, double* sums, double* out) {
    constexpr bool fixed = Radial > 0;
    const int N = fixed ? Radial : n_radial;
    double registers[4 * (fixed ? Radial : 1)];
    double* a = fixed ? registers : sums;
    double* bx = a + N;
    double* by = a + 2 * N;
    double* bz = a + 3 * N;
    const int LM = L1 * L1;
    double radial_part = 0.0, g[3] = {0.0, 0.0, 0.0};
    for (int l = 0; l < L1; ++l) {
        for (int q = 0; q < 4 * N; ++q) a[q] = 0.0;
        for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
            const double* row = e + lm * K;
            const double y = Y[lm], gx = dY[lm], gy = dY[LM + lm], gz = dY[2 * LM + lm];
            for (int q = 0; q < N; ++q) {
                a[q] += y * row[q];
                bx[q] += gx * row[q];
                by[q] += gy * row[q];
                bz[q] += gz * row[q];
            }
        }
        const double* r = R + l * N;
        const double* dr = dR + l * N;
        for (int q = 0; q < N; ++q) {
            radial_part += dr[q] * a[q];
            g[0] += r[q] * bx[q];
            g[1] += r[q] * by[q];
            g[2] += r[q] * bz[q];
        }
    }
    for (int alpha = 0; alpha < 3; ++alpha) out[alpha] = radial_part * u[alpha] + g[alpha];
}

// The same for N = lanes x V radial functions with explicit vectors (GCC/Clang vector extensions):
// four-wide where the target has AVX, two-wide (SSE2, on every x86-64) otherwise; the compiler
// does not vectorise the generic loops' reductions without reassociating them.
#ifdef __AVX__
using DoubleVector = double __attribute__((vector_size(32)));
#else
using DoubleVector = double __attribute__((vector_size(16)));
#endif
constexpr int lanes = sizeof(DoubleVector) / sizeof(double);

// Unaligned loads; written as copies so that no vector crosses a call boundary (whose ABI would
// depend on the target's vector extensions).
inline void load(DoubleVector& v, const double* p) { std::memcpy(&v, p, sizeof v); }

template <int V>
void contract_neighbour_vectorised(const double* e, int K, int L1, int, const double* Y, const double* dY, const double* R,
                                   const double* dR, const double* u, double*, double* out) {
    constexpr int N = lanes * V;
    const int LM = L1 * L1;
    const DoubleVector zero = {};
    DoubleVector radial_part = zero, gx = zero, gy = zero, gz = zero;
    for (int l = 0; l < L1; ++l) {
        DoubleVector a[V], bx[V], by[V], bz[V];
        for (int v = 0; v < V; ++v) a[v] = bx[v] = by[v] = bz[v] = zero;
        for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
            const double* row = e + lm * K;
            const double y = Y[lm], dx = dY[lm], dy = dY[LM + lm], dz = dY[2 * LM + lm];
            for (int v = 0; v < V; ++v) {
                DoubleVector c;
                load(c, row + lanes * v);
                a[v] += y * c;
                bx[v] += dx * c;
                by[v] += dy * c;
                bz[v] += dz * c;
            }
        }
        for (int v = 0; v < V; ++v) {
            DoubleVector r, dr;
            load(r, R + l * N + lanes * v);
            load(dr, dR + l * N + lanes * v);
            radial_part += dr * a[v];
            gx += r * bx[v];
            gy += r * by[v];
            gz += r * bz[v];
        }
    }
    auto sum = [](const DoubleVector& x) {
        double total = 0.0;
        for (int i = 0; i < lanes; ++i) total += x[i];
        return total;
    };
    const double radial = sum(radial_part);
    out[0] = radial * u[0] + sum(gx);
    out[1] = radial * u[1] + sum(gy);
    out[2] = radial * u[2] + sum(gz);
}

using NeighbourContraction = void (*)(const double*, int, int, int, const double*, const double*, const double*,
                                      const double*, const double*, double*, double*);

template <std::size_t... V>
constexpr std::array<NeighbourContraction, sizeof...(V)> vectorised_contractions(std::index_sequence<V...>) {
    return {contract_neighbour_vectorised<static_cast<int>(V) + 1>...};
}

template <std::size_t... N>
constexpr std::array<NeighbourContraction, sizeof...(N)> fixed_contractions(std::index_sequence<N...>) {
    return {contract_neighbour<static_cast<int>(N) + 1>...};
}

NeighbourContraction neighbour_contraction(int n_radial) {
    static constexpr auto vectorised = vectorised_contractions(std::make_index_sequence<16 / lanes>());
    static constexpr auto fixed = fixed_contractions(std::make_index_sequence<12>());
    if (n_radial % lanes == 0 && n_radial / lanes <= static_cast<int>(vectorised.size())) return vectorised[n_radial / lanes - 1];
    if (n_radial <= static_cast<int>(fixed.size())) return fixed[n_radial - 1];
    return contract_neighbour<0>;
}

// The number of features a SOAP-family type has on `expansion` (the bispectrum counts its own while
// it enumerates its triples).
double feature_count_of(const std::string& type, const DensityExpansion& expansion) {
    const double K = expansion.n_channels(), L1 = expansion.max_angular() + 1;
    if (type == "spherical_expansion") return static_cast<double>(expansion.coefficient_count());
    if (type == "soap_radial_spectrum") return K;
    if (type == "soap_power_spectrum") return K * (K + 1) / 2 * L1;
    return 0;
}

// Every key is read and checked, and the size bounded, before the expensive construction.
DensityExpansion read_expansion(const json& spec, const std::string& type, bool angular, bool normalize_default,
                                bool& normalize) {
    SpecReader reader(spec);
    reader.string("type", std::nullopt, {type});
    DensityExpansion expansion(reader, angular);
    normalize = reader.boolean("normalize", normalize_default);
    reader.finish();
    if (type == "soap_bispectrum" && expansion.max_angular() > max_bispectrum_angular) {
        fail(Status::json_error, "key 'max_angular' = ", expansion.max_angular(), " exceeds ", max_bispectrum_angular,
             " for soap_bispectrum (its coupling coefficients grow as l^7)");
    }
    const double n_features = feature_count_of(type, expansion);
    if (n_features > static_cast<double>(max_soap_features)) {
        fail(Status::json_error, "this ", type, " would have ", n_features, " features, more than ", max_soap_features,
             ": reduce species, max_radial or max_angular");
    }
    expansion.build();
    return expansion;
}

}  // namespace

SoapFamilyDescriptor::SoapFamilyDescriptor(const json& spec, std::string type, bool angular, bool normalize_by_default)
    : type_(std::move(type)), expansion_(read_expansion(spec, type_, angular, normalize_by_default, normalize_)) {}

json SoapFamilyDescriptor::parameters() const {
    json out;
    out["type"] = type_;
    expansion_.write_parameters(out);
    out["normalize"] = normalize_;
    return out;
}

std::unique_ptr<Descriptor::Workspace> SoapFamilyDescriptor::make_workspace() const {
    auto ws = std::make_unique<SoapWorkspace>();
    ws->coefficients.resize(expansion_.coefficient_count());
    return ws;
}

namespace {

// d(p/|p|) = (dp - p_hat (p_hat . dp)) / |p| in place, for the rows of the blocks (three per block).
ATOMFP_DISPATCHED void normalise_gradient_rows(int64_t n_rows, double* const* blocks, int64_t n_features,
                                               const double* unit_features, double inverse_norm) {
    for (int64_t r = 0; r < n_rows; ++r) {
        double* g = blocks[r / 3] + (r % 3) * n_features;
        const double projection = dot(unit_features, g, n_features);
        for (int64_t f = 0; f < n_features; ++f) g[f] = (g[f] - projection * unit_features[f]) * inverse_norm;
    }
}

}  // namespace

void SoapFamilyDescriptor::compute_environment(const Environment& environment, double* features,
                                               double* neighbour_gradients, Workspace& workspace) const {
    auto& ws = static_cast<SoapWorkspace&>(workspace);
    const int64_t n = environment.size();
    double** blocks = nullptr;
    if (neighbour_gradients) {
        if (ws.blocks.size() < static_cast<std::size_t>(n)) ws.blocks.resize(n);
        blocks = ws.blocks.data();
        for (int64_t j = 0; j < n; ++j) blocks[j] = neighbour_gradients + environment.slots[j] * 3 * n_features_;
    }
    expansion_.expand(environment, ws.coefficients.data(), ws.factors, blocks != nullptr);
    invariants(ws.coefficients.data(), n, features, blocks, ws);

    const double inverse_norm = normalise_features(features);
    if (blocks && inverse_norm > 0.0) normalise_gradient_rows(3 * n, blocks, n_features_, features, inverse_norm);
}

double SoapFamilyDescriptor::normalise_features(double* features) const {
    const double norm2 = normalize_ ? dot(features, features, n_features_) : 0.0;
    if (norm2 == 0.0) return 0.0;
    const double inverse_norm = 1.0 / std::sqrt(norm2);
    for (int64_t f = 0; f < n_features_; ++f) features[f] *= inverse_norm;
    return inverse_norm;
}

void SoapFamilyDescriptor::contract_environment(const Environment& environment, const double* weights, double* features,
                                                double* contracted, Workspace& workspace) const {
    auto& ws = static_cast<SoapWorkspace&>(workspace);
    expansion_.expand(environment, ws.coefficients.data(), ws.factors, true);
    invariants(ws.coefficients.data(), environment.size(), features, nullptr, ws);
    const double* w = weights;
    const double inverse_norm = normalise_features(features);
    if (inverse_norm > 0.0) {
        // dE/dp = (w - p_hat (p_hat . w)) / |p| for the normalised features p_hat = p / |p|.
        const double projection = dot(features, weights, n_features_);
        double* projected = sized(ws.projected_weights, n_features_);
        for (int64_t f = 0; f < n_features_; ++f) projected[f] = (weights[f] - projection * features[f]) * inverse_norm;
        w = projected;
    }
    const int LM = expansion_.lm_size(), K = expansion_.n_channels(), L1 = expansion_.max_angular() + 1, N = expansion_.n_radial();
    double* dE_dc = sized(ws.coefficient_weights, static_cast<std::size_t>(LM) * K);
    coefficient_weights(ws.coefficients.data(), w, dE_dc, ws);
    const std::size_t radial_size = static_cast<std::size_t>(L1) * N;
    auto* contract_one = neighbour_contraction(N);
    double* sums = sized(ws.staging, 4 * static_cast<std::size_t>(N));
    for (int64_t j = 0; j < environment.size(); ++j) {
        contract_one(dE_dc + ws.factors.first_channel[j], K, L1, N, ws.factors.harmonics.data() + j * LM,
                     ws.factors.harmonic_gradients.data() + 3 * j * LM, ws.factors.radial.data() + j * radial_size,
                     ws.factors.radial_derivative.data() + j * radial_size, ws.factors.unit.data() + 3 * j, sums,
                     contracted + 3 * environment.slots[j]);
    }
}

std::unique_ptr<Descriptor::Projection> SoapFamilyDescriptor::make_projection(int64_t m, const double* S) const {
    return std::make_unique<SpeciesProjection>(*this, m, S);
}

void SoapFamilyDescriptor::project_environments(int64_t count, const Environment* environments,
                                                const Projection& projection, double* rows, double* along,
                                                Workspace& workspace) const {
    auto& ws = static_cast<SoapWorkspace&>(workspace);
    const auto& split = static_cast<const SpeciesProjection&>(projection);
    const int64_t nf = n_features_, m = split.m();
    const std::size_t groups = split.support.size();
    std::vector<int64_t> group_size(groups, 0);
    int64_t n_rows = 0;
    for (int64_t i = 0; i < count; ++i) {
        for (int32_t z : environments[i].species) group_size[split.group_of(expansion_.species_index(z))] += 3;
        n_rows += 3 * environments[i].size();
    }
    if (ws.group_rows.size() < groups) {
        ws.group_rows.resize(groups);
        ws.group_products.resize(groups);
    }
    for (std::size_t g = 0; g < groups; ++g) sized(ws.group_rows[g], group_size[g] * split.support[g].size());
    double* F = sized(ws.batch_features, static_cast<std::size_t>(count) * nf);
    double* inverse_norm = sized(ws.inverse_norms, count);
    double* row_along = sized(ws.row_along, n_rows);
    if (ws.row_group.size() < static_cast<std::size_t>(n_rows)) {
        ws.row_group.resize(n_rows);
        ws.row_place.resize(n_rows);
    }
    std::fill(group_size.begin(), group_size.end(), 0);  // from here: the rows gathered so far
    int64_t at = 0;
    for (int64_t i = 0; i < count; ++i) {
        const Environment& environment = environments[i];
        const int64_t n = environment.size();
        double* Fi = F + i * nf;
        double* raw = sized(ws.raw_blocks, static_cast<std::size_t>(n) * 3 * nf);
        if (ws.blocks.size() < static_cast<std::size_t>(n)) ws.blocks.resize(n);
        for (int64_t j = 0; j < n; ++j) ws.blocks[j] = raw + j * 3 * nf;
        expansion_.expand(environment, ws.coefficients.data(), ws.factors, true);
        invariants(ws.coefficients.data(), n, Fi, ws.blocks.data(), ws);
        inverse_norm[i] = normalise_features(Fi);
        for (int64_t j = 0; j < n; ++j) {
            const int64_t g = split.group_of(expansion_.species_index(environment.species[j]));
            const std::vector<int64_t>& support = split.support[g];
            const int64_t width = static_cast<int64_t>(support.size());
            for (int alpha = 0; alpha < 3; ++alpha, ++at) {
                const double* dp = raw + (3 * j + alpha) * nf;
                double* gathered = ws.group_rows[g].data() + group_size[g] * width;
                double a = 0.0;
                for (int64_t c = 0; c < width; ++c) {
                    gathered[c] = dp[support[c]];
                    a += gathered[c] * Fi[support[c]];
                }
                row_along[at] = a;
                ws.row_group[at] = g;
                ws.row_place[at] = group_size[g]++;
            }
        }
    }
    for (std::size_t g = 0; g < groups; ++g) {
        if (group_size[g] == 0) continue;
        const int64_t width = static_cast<int64_t>(split.support[g].size());
        double* P = sized(ws.group_products[g], static_cast<std::size_t>(group_size[g]) * m);
        gemm(false, true, group_size[g], m, width, 1.0, ws.group_rows[g].data(), width, split.restricted[g].data(), width,
             0.0, P, m);
    }
    // Normalised: d(p/|p|) . s = (dp . s - (F . dp)(F . s)) / |p| and d(p/|p|) . F = (F . dp)(1 - F . F) / |p|.
    double* FS = normalize_ ? sized(ws.feature_products, static_cast<std::size_t>(count) * m) : nullptr;
    if (FS && count > 0) gemm(false, true, count, m, nf, 1.0, F, nf, split.S(), nf, 0.0, FS, m);
    at = 0;
    for (int64_t i = 0; i < count; ++i) {
        const double inverse = inverse_norm[i];
        const double unit = inverse > 0.0 ? dot(F + i * nf, F + i * nf, nf) : 0.0;
        for (int64_t r = 0; r < 3 * environments[i].size(); ++r, ++at) {
            const double* P = ws.group_products[ws.row_group[at]].data() + ws.row_place[at] * m;
            double* out = rows + at * m;
            const double a = row_along[at];
            if (inverse > 0.0) {
                const double* fs = FS + i * m;
                for (int64_t j = 0; j < m; ++j) out[j] = (P[j] - a * fs[j]) * inverse;
                along[at] = a * (1.0 - unit) * inverse;
            } else {
                std::copy_n(P, m, out);
                along[at] = a;
            }
        }
    }
}

// ---- spherical expansion ---------------------------------------------------------------------

SphericalExpansionDescriptor::SphericalExpansionDescriptor(const json& spec)
    : SoapFamilyDescriptor(spec, "spherical_expansion", true, false) {
    n_features_ = expansion_.coefficient_count();
}

std::string SphericalExpansionDescriptor::feature_label(int64_t index) const {
    const int LM = expansion_.lm_size();
    const int channel = static_cast<int>(index / LM), lm = static_cast<int>(index % LM);
    const int l = static_cast<int>(std::sqrt(static_cast<double>(lm)) + 1e-9);
    return "c[" + expansion_.channel_label(channel) + ",l=" + std::to_string(l) + ",m=" + std::to_string(lm - l * l - l) + "]";
}

bool SphericalExpansionDescriptor::feature_uses_channels(int64_t f, int first, int count) const {
    const int64_t channel = f / expansion_.lm_size();
    return channel >= first && channel < first + count;
}

void SphericalExpansionDescriptor::invariants(const double* c, int64_t n, double* features, double* const* blocks,
                                              SoapWorkspace& ws) const {
    const int LM = expansion_.lm_size(), K = expansion_.n_channels();
    // Internal [lm][channel] to the documented [channel][lm].
    for (int lm = 0; lm < LM; ++lm)
        for (int k = 0; k < K; ++k) features[k * LM + lm] = c[lm * K + k];
    if (!blocks) return;
    double* dc = sized(ws.coefficient_gradients, 3 * static_cast<std::size_t>(n_features_));
    for (int64_t j = 0; j < n; ++j) {
        expansion_.coefficient_gradients(ws.factors, j, dc);
        for (int alpha = 0; alpha < 3; ++alpha) {
            double* row = blocks[j] + alpha * n_features_;
            const double* d = dc + alpha * n_features_;
            for (int lm = 0; lm < LM; ++lm)
                for (int k = 0; k < K; ++k) row[k * LM + lm] = d[lm * K + k];
        }
    }
}

// ---- radial spectrum -------------------------------------------------------------------------

SoapRadialSpectrum::SoapRadialSpectrum(const json& spec) : SoapFamilyDescriptor(spec, "soap_radial_spectrum", false, false) {
    n_features_ = expansion_.n_channels();
}

std::string SoapRadialSpectrum::feature_label(int64_t index) const {
    return "c[" + expansion_.channel_label(static_cast<int>(index)) + ",l=0,m=0]";
}

bool SoapRadialSpectrum::feature_uses_channels(int64_t f, int first, int count) const { return f >= first && f < first + count; }

void SphericalExpansionDescriptor::coefficient_weights(const double*, const double* weights, double* dE_dc,
                                                       SoapWorkspace&) const {
    const int LM = expansion_.lm_size(), K = expansion_.n_channels();
    for (int lm = 0; lm < LM; ++lm)
        for (int k = 0; k < K; ++k) dE_dc[lm * K + k] = weights[k * LM + lm];
}

void SoapRadialSpectrum::invariants(const double* c, int64_t n, double* features, double* const* blocks,
                                    SoapWorkspace& ws) const {
    // With max_angular = 0 the coefficients are already c_{k00}, and so are their gradients.
    std::copy_n(c, n_features_, features);
    for (int64_t j = 0; blocks && j < n; ++j) expansion_.coefficient_gradients(ws.factors, j, blocks[j]);
}

void SoapRadialSpectrum::coefficient_weights(const double*, const double* weights, double* dE_dc, SoapWorkspace&) const {
    std::copy_n(weights, n_features_, dE_dc);
}

// ---- power spectrum --------------------------------------------------------------------------

SoapPowerSpectrum::SoapPowerSpectrum(const json& spec) : SoapFamilyDescriptor(spec, "soap_power_spectrum", true, true) {
    const int K = expansion_.n_channels();
    for (int k = 0; k < K; ++k)
        for (int kk = k; kk < K; ++kk) pairs_.emplace_back(k, kk);
    const int L1 = expansion_.max_angular() + 1;
    n_features_ = static_cast<int64_t>(pairs_.size()) * L1;
    for (const auto& [k, kk] : pairs_)
        for (int l = 0; l < L1; ++l) scale_.push_back((k == kk ? 1.0 : std::sqrt(2.0)) * M_PI * std::sqrt(8.0 / (2 * l + 1)));
    padded_l_ = (L1 + 3) / 4 * 4;
    padded_scale_.assign(pairs_.size() * padded_l_, 0.0);
    for (std::size_t p = 0; p < pairs_.size(); ++p)
        for (int l = 0; l < L1; ++l) padded_scale_[p * padded_l_ + l] = scale_[p * L1 + l];
}

std::string SoapPowerSpectrum::feature_label(int64_t index) const {
    const int L1 = expansion_.max_angular() + 1;
    const auto& [k, kk] = pairs_[index / L1];
    return "p[" + expansion_.channel_label(k) + ";" + expansion_.channel_label(kk) + ",l=" + std::to_string(index % L1) + "]";
}

bool SoapPowerSpectrum::feature_uses_channels(int64_t f, int first, int count) const {
    const auto& [k, kk] = pairs_[f / (expansion_.max_angular() + 1)];
    return (k >= first && k < first + count) || (kk >= first && kk < first + count);
}

void SoapPowerSpectrum::invariants(const double* c, int64_t n, double* features, double* const* blocks,
                                   SoapWorkspace& ws) const {
    power_spectrum(c, n, features, blocks, ws);
}

namespace {

// One neighbour's three gradient rows of the power spectrum, `Lanes` values of l at a time:
// row_a[p][l] = scale (u_a t + G2[k] B_a[k'] + G2[k'] B_a[k]) with t = G1[k] A[k'] + G1[k'] A[k] for
// pair p = (k, k'). Every input is [channel][Lp] (scale [pair][Lp]), Lp a multiple of Lanes; the
// rows are [pair][L1].
template <int Lanes>
inline void power_spectrum_rows(std::size_t n_pairs, const std::pair<int, int>* pairs, int L1, int Lp, const double* scale,
                                const double* G1, const double* G2, const double* A, const double* const B[3],
                                const double* u, double* const rows[3]) {
    using Vector = typename DoubleLanes<Lanes>::type;
    // Copies rather than returned vectors: no vector crosses a call boundary (see load above).
    auto fill = [](Vector& v, const double* p) { __builtin_memcpy(&v, p, sizeof v); };
    double* const row_x = rows[0];
    double* const row_y = rows[1];
    double* const row_z = rows[2];
    const double ux = u[0], uy = u[1], uz = u[2];
    // Values for l = l0 .. l0 + Lanes of pair p into x, y, z.
    auto pair_values = [&](std::size_t p, int l0, Vector& x, Vector& y, Vector& z) {
        const int k = pairs[p].first * Lp + l0, kk = pairs[p].second * Lp + l0;
        Vector s, g2k, g2kk, g1k, g1kk, ak, akk, bk, bkk;
        fill(s, scale + p * Lp + l0);
        fill(g2k, G2 + k);
        fill(g2kk, G2 + kk);
        fill(g1k, G1 + k);
        fill(g1kk, G1 + kk);
        fill(ak, A + k);
        fill(akk, A + kk);
        const Vector t = g1k * akk + g1kk * ak;
        fill(bk, B[0] + k);
        fill(bkk, B[0] + kk);
        x = s * (ux * t + g2k * bkk + g2kk * bk);
        fill(bk, B[1] + k);
        fill(bkk, B[1] + kk);
        y = s * (uy * t + g2k * bkk + g2kk * bk);
        fill(bk, B[2] + k);
        fill(bkk, B[2] + kk);
        z = s * (uz * t + g2k * bkk + g2kk * bk);
    };
    Vector x, y, z;
    // A whole vector may run past a pair's L1 values into the next pair's, which are written after
    // it; only the last pair's end is stored lane by lane.
    for (std::size_t p = 0; p + 1 < n_pairs; ++p) {
        const std::size_t o = p * L1;
        for (int l = 0; l < Lp; l += Lanes) {
            pair_values(p, l, x, y, z);
            __builtin_memcpy(row_x + o + l, &x, sizeof x);
            __builtin_memcpy(row_y + o + l, &y, sizeof y);
            __builtin_memcpy(row_z + o + l, &z, sizeof z);
        }
    }
    if (n_pairs == 0) return;
    const std::size_t last = n_pairs - 1, o = last * L1;
    for (int l = 0; l < Lp; l += Lanes) {
        pair_values(last, l, x, y, z);
        for (int i = 0; i < Lanes && l + i < L1; ++i) {
            row_x[o + l + i] = x[i];
            row_y[o + l + i] = y[i];
            row_z[o + l + i] = z[i];
        }
    }
}

}  // namespace

// Virtual functions cannot be multiversioned: the work is in this non-virtual one.
ATOMFP_DISPATCHED void SoapPowerSpectrum::power_spectrum(const double* c, int64_t n, double* features,
                                                         double* const* blocks, SoapWorkspace& ws) const {
    const int K = expansion_.n_channels(), L1 = expansion_.max_angular() + 1, N = expansion_.n_radial();
    const std::size_t n_pairs = pairs_.size();
    const double* scale = scale_.data();  // [p][l]
    double* full = sized(ws.dot_products, 2 * static_cast<std::size_t>(K) * K + 6 * static_cast<std::size_t>(K) * padded_l_);
    const bool wide = avx2_kernels_selected();
    for (int l = 0; l < L1; ++l) {
        // full[k][k'] = sum_m c_klm c_k'lm, one row at a time with the row in registers.
        std::fill(full, full + K * K, 0.0);
        const double* block = c + l * l * K;
        for (int k = 0; k < K; ++k) {
            if (wide) {
                accumulate_products<4>(2 * l + 1, block + k, K, block, K, full + k * K, K);
            } else {
                accumulate_products<2>(2 * l + 1, block + k, K, block, K, full + k * K, K);
            }
        }
        for (std::size_t p = 0; p < n_pairs; ++p) features[p * L1 + l] = scale[p * L1 + l] * full[pairs_[p].first * K + pairs_[p].second];
    }
    if (!blocks) return;
    // dp_{kk'l}/dr_j = scale (u G1[k] A[k'] + G2[k] B[k'] + (k <-> k')), with G1 = d(wI)/dr and G2 = wI of
    // neighbour j (zero outside its channels), A[k][l] = sum_m Y_lm c_klm and B = sum_m dY_lm/dr c_klm.
    // The per-channel arrays are [channel][Lp], l padded to whole vectors, so the innermost loops
    // run over l (the padding lanes are computed and never stored).
    const int Lp = padded_l_;
    const std::size_t channel_block = static_cast<std::size_t>(K) * Lp;
    double* A = full + 2 * static_cast<std::size_t>(K) * K;
    double* B = A + channel_block;  // [3][K][Lp]
    double* G1 = B + 3 * channel_block;
    double* G2 = G1 + channel_block;
    double* staging = sized(ws.staging, 4 * static_cast<std::size_t>(K) * L1);
    std::fill(A, A + 6 * channel_block, 0.0);
    const int LM = expansion_.lm_size();
    const std::size_t radial_size = static_cast<std::size_t>(L1) * N;
    for (int64_t j = 0; j < n; ++j) {
        const double* Y = ws.factors.harmonics.data() + j * LM;
        const double* dY = ws.factors.harmonic_gradients.data() + 3 * j * LM;
        const double* u = ws.factors.unit.data() + 3 * j;
        const double* R = ws.factors.radial.data() + j * radial_size;
        const double* dR = ws.factors.radial_derivative.data() + j * radial_size;
        const int first = ws.factors.first_channel[j];
        // Accumulate A and B as [l][k] (contiguous over k, like c), then transpose to [k][l].
        double* A_lk = staging;
        double* B_lk = staging + static_cast<std::size_t>(K) * L1;
        std::fill(A_lk, A_lk + 4 * static_cast<std::size_t>(K) * L1, 0.0);
        std::fill(G1, G1 + 2 * channel_block, 0.0);  // G1 and G2
        for (int l = 0; l < L1; ++l) {
            double* al = A_lk + l * K;
            double* bx = B_lk + l * K;
            double* by = B_lk + (L1 + l) * K;
            double* bz = B_lk + (2 * L1 + l) * K;
            for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
                const double* a = c + lm * K;
                const double y = Y[lm], gx = dY[lm], gy = dY[LM + lm], gz = dY[2 * LM + lm];
                for (int k = 0; k < K; ++k) {
                    al[k] += y * a[k];
                    bx[k] += gx * a[k];
                    by[k] += gy * a[k];
                    bz[k] += gz * a[k];
                }
            }
            for (int q = 0; q < N; ++q) {
                G1[(first + q) * Lp + l] = dR[l * N + q];
                G2[(first + q) * Lp + l] = R[l * N + q];
            }
        }
        for (int l = 0; l < L1; ++l) {
            for (int k = 0; k < K; ++k) {
                A[k * Lp + l] = A_lk[l * K + k];
                for (int alpha = 0; alpha < 3; ++alpha) B[alpha * channel_block + k * Lp + l] = B_lk[(alpha * L1 + l) * K + k];
            }
        }
        // All three directions in one pass: they share G1[k] A[k'] + G1[k'] A[k], G2 and the scales.
        const double* directions[3] = {B, B + channel_block, B + 2 * channel_block};
        double* const rows[3] = {blocks[j], blocks[j] + n_features_, blocks[j] + 2 * n_features_};
        if (wide) {
            power_spectrum_rows<4>(n_pairs, pairs_.data(), L1, Lp, padded_scale_.data(), G1, G2, A, directions, u, rows);
        } else {
            power_spectrum_rows<2>(n_pairs, pairs_.data(), L1, Lp, padded_scale_.data(), G1, G2, A, directions, u, rows);
        }
    }
}

// ---- bispectrum ------------------------------------------------------------------------------

std::vector<GauntEntry> real_gaunt_coefficients(int l1, int l2, int l3) {
    return RealGauntTable(std::max({l1, l2, l3})).coefficients(l1, l2, l3);
}

RealGauntTable::RealGauntTable(int max_l) : max_l_(max_l) {
    // The integrand is a polynomial of degree <= l1 + l2 + l3 <= 3 max_l in z times a trigonometric
    // polynomial in phi of the same degree wherever the phi integral survives, so this product
    // rule is exact for every coupling of the table.
    const int degree = 3 * max_l;
    const int n_z = degree / 2 + 2, n_phi = degree + 2;
    points_ = n_z * n_phi;
    SphericalHarmonics harmonics(max_l);
    std::vector<double> z, w, y(harmonics.size());
    gauss_legendre(n_z, -1.0, 1.0, z, w);
    const std::size_t lm_count = harmonics.size();
    weighted_.resize(lm_count * points_);
    harmonics_.resize(lm_count * points_);
    for (int a = 0; a < n_z; ++a) {
        for (int p = 0; p < n_phi; ++p) {
            const double phi = 2.0 * M_PI * p / n_phi, s = std::sqrt(1.0 - z[a] * z[a]);
            const double u[3] = {s * std::cos(phi), s * std::sin(phi), z[a]};
            harmonics.evaluate(u, y.data(), nullptr);
            const double weight = w[a] * 2.0 * M_PI / n_phi;
            const int q = a * n_phi + p;
            for (std::size_t lm = 0; lm < lm_count; ++lm) {
                harmonics_[lm * points_ + q] = y[lm];
                weighted_[lm * points_ + q] = weight * y[lm];
            }
        }
    }
}

std::vector<GauntEntry> RealGauntTable::coefficients(int l1, int l2, int l3) const {
    if (std::max({l1, l2, l3}) > max_l_) fail(Status::internal, "Gaunt table up to l = ", max_l_, " asked for l = ", std::max({l1, l2, l3}));
    const int n1 = 2 * l1 + 1, n2 = 2 * l2 + 1, n3 = 2 * l3 + 1, Q = points_;
    // sum[i][j][k] = sum_q (w Y1)[i][q] Y2[j][q] Y3[k][q]: for each i, (w Y1[i] * Y2) Y3^T.
    std::vector<double> sum(static_cast<std::size_t>(n1) * n2 * n3), scaled(static_cast<std::size_t>(n2) * Q);
    const double* Y3 = harmonics_.data() + static_cast<std::size_t>(l3) * l3 * Q;
    for (int i = 0; i < n1; ++i) {
        const double* y1 = weighted_.data() + static_cast<std::size_t>(l1 * l1 + i) * Q;
        for (int j = 0; j < n2; ++j) {
            const double* y2 = harmonics_.data() + static_cast<std::size_t>(l2 * l2 + j) * Q;
            for (int q = 0; q < Q; ++q) scaled[static_cast<std::size_t>(j) * Q + q] = y1[q] * y2[q];
        }
        gemm(false, true, n2, n3, Q, 1.0, scaled.data(), Q, Y3, Q, 0.0, sum.data() + static_cast<std::size_t>(i) * n2 * n3, n3);
    }
    std::vector<GauntEntry> out;
    for (int i = 0; i < n1; ++i)
        for (int j = 0; j < n2; ++j)
            for (int k = 0; k < n3; ++k) {
                const double g = sum[(i * n2 + j) * n3 + k];
                if (std::abs(g) > 1e-12) out.push_back({l1 * l1 + i, l2 * l2 + j, l3 * l3 + k, g});
            }
    return out;
}

SoapBispectrum::SoapBispectrum(const json& spec) : SoapFamilyDescriptor(spec, "soap_bispectrum", true, true) {
    const int K = expansion_.n_channels(), L = expansion_.max_angular();
    const RealGauntTable gaunt(L);
    std::map<std::tuple<int, int, int>, int> coupling_index;
    // (k, l) pairs ordered by l then k; each unordered triple of pairs appears once.
    const int n_pairs = K * (L + 1);
    for (int p1 = 0; p1 < n_pairs; ++p1) {
        for (int p2 = p1; p2 < n_pairs; ++p2) {
            for (int p3 = p2; p3 < n_pairs; ++p3) {
                const int l1 = p1 / K, l2 = p2 / K, l3 = p3 / K;
                if (l3 > l1 + l2 || (l1 + l2 + l3) % 2 != 0) continue;  // l1 <= l2 <= l3 already
                if (triples_.size() >= max_soap_features) {
                    fail(Status::json_error, "this bispectrum would have more than ", max_soap_features,
                         " features; reduce max_radial, max_angular or the number of species");
                }
                auto key = std::make_tuple(l1, l2, l3);
                auto it = coupling_index.find(key);
                if (it == coupling_index.end()) {
                    it = coupling_index.emplace(key, static_cast<int>(couplings_.size())).first;
                    couplings_.push_back(gaunt.coefficients(l1, l2, l3));
                }
                const int distinct = (p1 == p2 && p2 == p3) ? 1 : (p1 == p2 || p2 == p3) ? 3 : 6;
                Triple t{{p1 % K, p2 % K, p3 % K}, {l1, l2, l3}, std::sqrt(static_cast<double>(distinct)), it->second, {0, 0, 0}};
                if (row_feature_.empty()) {
                    row_feature_.resize(L + 1);
                    row_channel_.resize(L + 1);
                }
                for (int i = 0; i < 3; ++i) {
                    t.partial_row[i] = static_cast<int64_t>(row_feature_[t.l[i]].size());
                    row_feature_[t.l[i]].push_back(static_cast<int64_t>(triples_.size()));
                    row_channel_[t.l[i]].push_back(t.k[i]);
                }
                triples_.push_back(t);
            }
        }
    }
    n_features_ = static_cast<int64_t>(triples_.size());
    for (int l = 0; l < static_cast<int>(row_feature_.size()); ++l) {
        partials_offset_.push_back(partials_size_);
        partials_size_ += static_cast<int64_t>(row_feature_[l].size()) * (2 * l + 1);
    }
}

void SoapPowerSpectrum::coefficient_weights(const double* c, const double* weights, double* dE_dc, SoapWorkspace& ws) const {
    // p_{kk'l} = s sum_m c_klm c_k'lm: dE/dc_klm = sum_k' W_l[k][k'] c_k'lm with W_l symmetric,
    // W[k][k'] = w s off the diagonal and 2 w s on it.
    const int K = expansion_.n_channels(), L1 = expansion_.max_angular() + 1;
    double* W = sized(ws.dot_products, static_cast<std::size_t>(K) * K);
    for (int l = 0; l < L1; ++l) {
        std::fill(W, W + K * K, 0.0);
        for (std::size_t p = 0; p < pairs_.size(); ++p) {
            const int k = pairs_[p].first, kk = pairs_[p].second;
            const double v = weights[p * L1 + l] * scale_[p * L1 + l];
            if (k == kk) {
                W[k * K + k] += 2.0 * v;
            } else {
                W[k * K + kk] += v;
                W[kk * K + k] += v;
            }
        }
        for (int lm = l * l; lm < (l + 1) * (l + 1); ++lm) {
            const double* a = c + lm * K;
            double* out = dE_dc + lm * K;
            for (int k = 0; k < K; ++k) out[k] = dot(W + k * K, a, K);
        }
    }
}

void SoapBispectrum::coefficient_weights(const double*, const double*, double*, SoapWorkspace&) const {
    fail(Status::internal, "the bispectrum is contracted from its gradient blocks");
}

std::string SoapBispectrum::feature_label(int64_t index) const {
    const Triple& t = triples_[index];
    std::string out = "b[";
    for (int i = 0; i < 3; ++i) {
        out += expansion_.channel_label(t.k[i]) + ",l=" + std::to_string(t.l[i]) + (i < 2 ? ";" : "]");
    }
    return out;
}

bool SoapBispectrum::feature_uses_channels(int64_t f, int first, int count) const {
    const Triple& t = triples_[f];
    return std::any_of(t.k, t.k + 3, [&](int k) { return k >= first && k < first + count; });
}

void SoapBispectrum::invariants(const double* c, int64_t n, double* features, double* const* blocks,
                                SoapWorkspace& ws) const {
    const int K = expansion_.n_channels();
    // partials: for every feature and each of its three (k, l) factors, db/dc_{klm} for the 2l+1 m,
    // grouped by l (see row_feature_).
    double* partials = blocks ? sized(ws.partials, partials_size_) : nullptr;
    if (partials) std::fill(partials, partials + partials_size_, 0.0);
    for (int64_t f = 0; f < n_features_; ++f) {
        const Triple& t = triples_[f];
        double s = 0.0;
        double* p[3] = {nullptr, nullptr, nullptr};
        if (partials) {
            for (int i = 0; i < 3; ++i) {
                p[i] = partials + partials_offset_[t.l[i]] + t.partial_row[i] * (2 * t.l[i] + 1) - t.l[i] * t.l[i];
            }
        }
        for (const GauntEntry& g : couplings_[t.coupling]) {
            const double c1 = c[g.lm1 * K + t.k[0]], c2 = c[g.lm2 * K + t.k[1]], c3 = c[g.lm3 * K + t.k[2]];
            s += g.value * c1 * c2 * c3;
            if (!partials) continue;
            const double v = t.weight * g.value;
            p[0][g.lm1] += v * c2 * c3;
            p[1][g.lm2] += v * c1 * c3;
            p[2][g.lm3] += v * c1 * c2;
        }
        features[f] = t.weight * s;
    }
    if (!blocks) return;
    // db/dr_ja = sum over the three factors (k, l) of G1_j[l][k] u_a (partial . Y_l) + G2_j[l][k] (partial . dY_l/dr_a),
    // from the neighbour factors of the expansion (dc/dr is never formed). Per l, the dot products for
    // all rows and all neighbours are one matrix product: partials_l [rows][2l+1] x V_l [2l+1][4n]
    // with V_l's columns (Y, dY/dx, dY/dy, dY/dz) of each neighbour.
    const int L1 = expansion_.max_angular() + 1, N = expansion_.n_radial(), LM = expansion_.lm_size();
    const std::size_t radial_size = static_cast<std::size_t>(L1) * N;
    for (int64_t j = 0; j < n; ++j) std::fill(blocks[j], blocks[j] + 3 * n_features_, 0.0);
    const int64_t columns = 4 * n;
    for (int l = 0; l < L1; ++l) {
        const int64_t rows = static_cast<int64_t>(row_feature_[l].size());
        if (rows == 0) continue;
        const int width = 2 * l + 1;
        double* V = sized(ws.angular_columns, static_cast<std::size_t>(width) * columns);
        for (int m = 0; m < width; ++m) {
            for (int64_t j = 0; j < n; ++j) {
                const int lm = l * l + m;
                const double* dY = ws.factors.harmonic_gradients.data() + 3 * j * LM;
                double* v = V + m * columns + 4 * j;
                v[0] = ws.factors.harmonics[j * LM + lm];
                v[1] = dY[lm];
                v[2] = dY[LM + lm];
                v[3] = dY[2 * LM + lm];
            }
        }
        double* D = sized(ws.dot_products, static_cast<std::size_t>(rows) * columns);
        gemm(false, false, rows, columns, width, 1.0, partials + partials_offset_[l], width, V, columns, 0.0, D, columns);
        for (int64_t j = 0; j < n; ++j) {
            const double* u = ws.factors.unit.data() + 3 * j;
            const double* R = ws.factors.radial.data() + j * radial_size + l * N;
            const double* dR = ws.factors.radial_derivative.data() + j * radial_size + l * N;
            const int first = ws.factors.first_channel[j];
            double* out = blocks[j];
            for (int64_t r = 0; r < rows; ++r) {
                const int k = row_channel_[l][r] - first;
                if (k < 0 || k >= N) continue;  // this neighbour does not feed the channel
                const double* d = D + r * columns + 4 * j;
                const double g1 = dR[k] * d[0], g2 = R[k];
                const int64_t f = row_feature_[l][r];
                out[f] += g1 * u[0] + g2 * d[1];
                out[n_features_ + f] += g1 * u[1] + g2 * d[2];
                out[2 * n_features_ + f] += g1 * u[2] + g2 * d[3];
            }
        }
    }
}

}  // namespace atomfp
