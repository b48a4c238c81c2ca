#include "descriptors/acsf.hpp"

#include "core/blas.hpp"
#include "core/elements.hpp"
#include "core/error.hpp"
#include "core/simd.hpp"
#include "core/small_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace atomfp {

std::vector<double> imbalzano_centred_etas(int count, double cutoff) {
    std::vector<double> etas;
    const int n = count - 1;
    for (int m = 0; m <= n; ++m) {
        double width = n > 0 ? std::pow(static_cast<double>(n), static_cast<double>(m) / n) / cutoff : 1.0 / cutoff;
        etas.push_back(width * width);
    }
    return etas;
}

std::vector<AcsfRadial> imbalzano_shifted(int count, double cutoff) {
    std::vector<double> rho;
    for (int m = 0; m <= count; ++m) rho.push_back(cutoff / std::pow(static_cast<double>(count), static_cast<double>(m) / count));
    std::vector<AcsfRadial> out;
    for (int m = 1; m <= count; ++m) {
        double gap = rho[m - 1] - rho[m];
        out.push_back({1.0 / (gap * gap), rho[m]});
    }
    std::sort(out.begin(), out.end(), [](const AcsfRadial& a, const AcsfRadial& b) { return a.r_shift < b.r_shift; });
    return out;
}

namespace {

const std::vector<std::string> preset_names = {"radial10_angular48", "imbalzano2018"};
// Ranges of the explicit keys; a preset must stay inside them so that its canonical specification
// (explicit lists) can be read back.
constexpr double max_eta = 1e6, max_r_shift = 1e3;

std::vector<AcsfAngular> angular_grid(const std::vector<double>& etas, const std::vector<double>& zetas, bool narrow) {
    std::vector<AcsfAngular> out;
    for (double eta : etas) {
        for (double zeta : zetas) {
            for (int lambda : {-1, 1}) out.push_back({eta, zeta, lambda, narrow, 0.0});
        }
    }
    return out;
}

std::string format_number(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", x);
    return buffer;
}

}  // namespace

Acsf::Acsf(const json& spec) : cutoff_function_(CutoffFunction::Kind::cosine, 1.0) {
    SpecReader reader(spec);
    reader.string("type", std::nullopt, {"acsf"});
    species_ = SpeciesList::read(reader);
    const double cutoff = reader.number("cutoff", 6.0, 0.0, 1e3, true);
    const std::string cutoff_name = reader.string("cutoff_function", std::string("cosine"), CutoffFunction::names());
    const double inner = reader.number("cutoff_inner_fraction", 0.0, 0.0, 1.0);
    if (inner >= 1.0) fail(Status::json_error, "key 'cutoff_inner_fraction' must be below 1, got ", inner);
    cutoff_function_ = CutoffFunction(CutoffFunction::kind_from_name(cutoff_name), cutoff, inner);
    ordered_pairs_ = reader.string("pair_sum", std::string("unique"), {"unique", "ordered"}) == "ordered";

    const bool explicit_lists = reader.has("radial") || reader.has("angular");
    if (explicit_lists) {
        if (reader.has("preset")) fail(Status::json_error, "key 'preset' cannot be combined with explicit 'radial'/'angular' lists");
        if (reader.has("radial")) {
            const json& list = reader.array("radial");
            for (std::size_t i = 0; i < list.size(); ++i) {
                SpecReader entry = reader.element("radial", i, list[i]);
                double eta = entry.number("eta", std::nullopt, 0.0, max_eta);
                double r_shift = entry.number("r_shift", 0.0, 0.0, max_r_shift);
                entry.finish();
                radial_.push_back({eta, r_shift});
            }
        }
        if (reader.has("angular")) {
            const json& list = reader.array("angular");
            for (std::size_t i = 0; i < list.size(); ++i) {
                SpecReader entry = reader.element("angular", i, list[i]);
                double eta = entry.number("eta", std::nullopt, 0.0, max_eta);
                double zeta = entry.number("zeta", std::nullopt, 1.0, 1e3);
                int64_t lambda = entry.integer("lambda", std::nullopt, -1, 1);
                if (lambda == 0) fail(Status::json_error, "key '", entry.key_name("lambda"), "' must be -1 or 1, got 0");
                bool narrow = entry.string("form", std::string("wide"), {"wide", "narrow"}) == "narrow";
                double r_shift = entry.number("r_shift", 0.0, 0.0, max_r_shift);
                entry.finish();
                angular_.push_back({eta, zeta, static_cast<int>(lambda), narrow, r_shift});
            }
        }
    } else {
        const std::string preset = reader.string("preset", preset_names[0], preset_names);
        const bool narrow = reader.string("preset_angular_form", std::string("wide"), {"wide", "narrow"}) == "narrow";
        if (preset == "radial10_angular48") {
            for (double eta : imbalzano_centred_etas(10, cutoff)) radial_.push_back({eta, 0.0});
            angular_ = angular_grid(imbalzano_centred_etas(6, cutoff), {1, 2, 4, 16}, narrow);
        } else {
            for (double eta : imbalzano_centred_etas(8, cutoff)) radial_.push_back({eta, 0.0});
            for (const AcsfRadial& r : imbalzano_shifted(8, cutoff)) radial_.push_back(r);
            angular_ = angular_grid(imbalzano_centred_etas(4, cutoff), {1, 2, 4, 16}, narrow);
        }
        auto outside = [](double eta, double r_shift) { return !(eta <= max_eta) || !(r_shift <= max_r_shift); };
        bool out_of_range = false;
        for (const AcsfRadial& r : radial_) out_of_range = out_of_range || outside(r.eta, r.r_shift);
        for (const AcsfAngular& a : angular_) out_of_range = out_of_range || outside(a.eta, a.r_shift);
        if (out_of_range) {
            fail(Status::json_error, "key 'cutoff' = ", cutoff, " Å is too small for the preset \"", preset,
                 "\": its widths would exceed eta = ", max_eta, " Å^-2 (give explicit 'radial'/'angular' lists)");
        }
    }
    reader.finish();
    if (radial_.empty() && angular_.empty()) fail(Status::json_error, "the ACSF specification defines no functions");

    n_species_ = species_.size();
    n_radial_ = static_cast<int64_t>(radial_.size());
    n_angular_ = static_cast<int64_t>(angular_.size());
    n_pair_blocks_ = n_species_ * (n_species_ + 1) / 2;
    angular_offset_ = n_species_ * n_radial_;
    n_features_ = angular_offset_ + n_pair_blocks_ * n_angular_;
    build_groups();
}

void Acsf::build_groups() {
    std::vector<std::pair<int, int>> group_of_feature;
    for (const AcsfAngular& a : angular_) {
        auto g = std::find_if(gaussian_groups_.begin(), gaussian_groups_.end(), [&](const GaussianGroup& x) {
            return x.eta == a.eta && x.r_shift == a.r_shift && x.narrow == a.narrow;
        });
        if (g == gaussian_groups_.end()) {
            gaussian_groups_.push_back({a.eta, a.r_shift, a.narrow});
            g = gaussian_groups_.end() - 1;
        }
        auto t = std::find_if(angular_groups_.begin(), angular_groups_.end(),
                              [&](const AngularGroup& x) { return x.zeta == a.zeta && x.lambda == a.lambda; });
        if (t == angular_groups_.end()) {
            int integer_zeta = (a.zeta == std::floor(a.zeta) && a.zeta <= 64.0) ? static_cast<int>(a.zeta) : 0;
            double prefactor = std::pow(2.0, 1.0 - a.zeta) * (ordered_pairs_ ? 2.0 : 1.0);
            angular_groups_.push_back({a.zeta, a.lambda, integer_zeta, prefactor});
            t = angular_groups_.end() - 1;
        }
        group_of_feature.emplace_back(static_cast<int>(g - gaussian_groups_.begin()),
                                      static_cast<int>(t - angular_groups_.begin()));
    }
    angular_stride_ = static_cast<int>(angular_groups_.size());
    for (int g = 0; g < static_cast<int>(gaussian_groups_.size()); ++g) {
        (gaussian_groups_[g].narrow ? narrow_groups_ : wide_groups_).push_back(g);
    }
    for (int g : narrow_groups_) {
        narrow_etas_.push_back(gaussian_groups_[g].eta);
        narrow_r_shifts_.push_back(gaussian_groups_[g].r_shift);
    }
    for (const auto& [g, a] : group_of_feature) feature_cell_.push_back(g * angular_stride_ + a);
}

int Acsf::pair_block(int a, int b) const {
    if (a > b) std::swap(a, b);
    const int n = static_cast<int>(n_species_);
    return a * n - a * (a - 1) / 2 + (b - a);
}

json Acsf::parameters() const {
    json out;
    out["type"] = "acsf";
    out["species"] = species_.atomic_numbers();
    out["cutoff"] = cutoff_function_.cutoff();
    out["cutoff_function"] = cutoff_function_.name();
    out["cutoff_inner_fraction"] = cutoff_function_.inner_fraction();
    out["pair_sum"] = ordered_pairs_ ? "ordered" : "unique";
    out["radial"] = json::array();
    for (const AcsfRadial& r : radial_) out["radial"].push_back({{"eta", r.eta}, {"r_shift", r.r_shift}});
    out["angular"] = json::array();
    for (const AcsfAngular& a : angular_) {
        out["angular"].push_back({{"eta", a.eta}, {"zeta", a.zeta}, {"lambda", a.lambda},
                                  {"form", a.narrow ? "narrow" : "wide"}, {"r_shift", a.r_shift}});
    }
    return out;
}

std::string Acsf::feature_label(int64_t index) const {
    if (index < angular_offset_) {
        const AcsfRadial& r = radial_[index % n_radial_];
        return "G2[" + element_symbol(species_[index / n_radial_]) + "](eta=" + format_number(r.eta) +
               ",r_s=" + format_number(r.r_shift) + ")";
    }
    const int64_t local = index - angular_offset_;
    const int block = static_cast<int>(local / n_angular_);
    const AcsfAngular& a = angular_[local % n_angular_];
    int first = 0;
    while (pair_block(first, static_cast<int>(n_species_) - 1) < block) ++first;
    const int second = first + (block - pair_block(first, first));
    return std::string(a.narrow ? "G3[" : "G9[") + element_symbol(species_[first]) + "," +
           element_symbol(species_[second]) + "](eta=" + format_number(a.eta) + ",zeta=" + format_number(a.zeta) +
           ",lambda=" + std::to_string(a.lambda) + ",r_s=" + format_number(a.r_shift) + ")";
}

// ---- evaluation ------------------------------------------------------------------------------

class Acsf::AcsfWorkspace final : public Descriptor::Workspace {
public:
    std::vector<int> species;      // [n] species index
    std::vector<int64_t> position;  // [n] row of each neighbour in partner_rows
    std::vector<int64_t> first_row; // [n_species + 1] first row of each species in partner_rows
    std::vector<double> unit;      // [n][3]
    std::vector<double> radial_f;  // [n] cutoff value
    std::vector<double> radial_df;
    std::vector<double> gauss;     // [n][n_g] exp(-eta (r - r_s)^2) f_c(r)
    std::vector<double> gauss_d;   // [n][n_g] its r-derivative
    std::vector<std::vector<int64_t>> by_species;  // neighbours of each species
    std::vector<double> power;     // [n][n][table stride] prefactor * (1 + lambda cos)^zeta, kept for narrow groups
    std::vector<double> power_d;   // [n][n][table stride] its cos-derivative
    std::vector<double> cosines;   // [n][n]
    std::vector<double> pair_h, pair_dh;  // [n_narrow][n][n] h(r_jk) and h'(r_jk) / r_jk of narrow groups
    std::vector<double> pair_values;       // [table stride] sums of one neighbour's partners
    std::vector<int64_t> unique_pairs;     // j * n + k of the pairs j < k inside the cutoff
    std::vector<double> unique_distances;  // their r_jk
    std::vector<double> pair_exponentials; // [unique pairs][n_narrow] exp(-eta (r_jk - r_s)^2)
    std::vector<int64_t> near_start, near;  // CSR over (j, species s): partners k of j with r_jk inside the cutoff
    std::vector<double> pair_power, pair_power_d;  // [table stride] of the current pair (no narrow groups)
    std::vector<double> partner_rows;  // [n][n][columns]: rows grouped by species, right-hand side of the wide-group product
    std::vector<double> partner_gauss; // [members][n_wide]
    std::vector<double> sums;          // [n_wide][n][columns]: the product
    std::vector<double> values;    // [n_pair_blocks][n_cells]
    std::vector<double> along;     // [n][n_species][n_cells] coefficient of the neighbour's own unit vector
    std::vector<double> across;    // [n][n_species][3][n_cells] sum over partners of their unit vectors
};

std::unique_ptr<Descriptor::Workspace> Acsf::make_workspace() const {
    auto ws = std::make_unique<AcsfWorkspace>();
    ws->by_species.resize(species_.size());
    ws->pair_power.assign(narrow_table_stride(), 0.0);
    ws->pair_power_d.assign(narrow_table_stride(), 0.0);
    ws->pair_values.assign(narrow_table_stride(), 0.0);
    ws->values.resize(static_cast<std::size_t>(n_pair_blocks_) * gaussian_groups_.size() * angular_stride_);
    return ws;
}

void Acsf::compute_environment(const Environment& env, double* features, double* gradients,
                               Workspace& workspace) const {
    auto& ws = static_cast<AcsfWorkspace&>(workspace);
    std::fill(features, features + n_features_, 0.0);
    prepare_neighbours(env, ws);
    add_radial_functions(env, ws, features, gradients);
    if (n_angular_ == 0 || env.size() < 2) return;
    const bool with_gradients = gradients != nullptr;
    prepare_angular_tables(env, ws, with_gradients);
    if (!narrow_groups_.empty()) tabulate_pair_factors(env, ws, with_gradients);
    tabulate_angular_terms(env, ws, with_gradients);
    add_wide_groups(env, ws, with_gradients);
    add_narrow_groups(env, ws, with_gradients);
    write_angular_functions(env, ws, features, gradients);
}

// Each neighbour's species index, unit vector and cutoff function.
void Acsf::prepare_neighbours(const Environment& env, AcsfWorkspace& ws) const {
    const int64_t n = env.size();
    ws.species.resize(n);
    ws.unit.resize(3 * n);
    ws.radial_f.resize(n);
    ws.radial_df.resize(n);
    for (int64_t q = 0; q < n; ++q) {
        ws.species[q] = species_.index(env.species[q]);
        const double r = env.distances[q];
        for (int k = 0; k < 3; ++k) ws.unit[3 * q + k] = env.displacements[3 * q + k] / r;
        cutoff_function_.evaluate(r, ws.radial_f[q], ws.radial_df[q]);
    }
}

// The radial functions G2 and their gradients.
void Acsf::add_radial_functions(const Environment& env, AcsfWorkspace& ws, double* features, double* gradients) const {
    const int64_t n = env.size();
    const int64_t nf = n_features_;
    const bool with_gradients = gradients != nullptr;
    for (int64_t q = 0; q < n; ++q) {
        const double r = env.distances[q], fc = ws.radial_f[q], dfc = ws.radial_df[q];
        const int64_t base = ws.species[q] * n_radial_;
        double* g = with_gradients ? gradients + env.slots[q] * 3 * nf : nullptr;
        for (int64_t m = 0; m < n_radial_; ++m) {
            const double dr = r - radial_[m].r_shift;
            const double e = std::exp(-radial_[m].eta * dr * dr);
            features[base + m] += e * fc;
            if (g) {
                const double de = (dfc - 2.0 * radial_[m].eta * dr * fc) * e;
                for (int k = 0; k < 3; ++k) g[k * nf + base + m] += de * ws.unit[3 * q + k];
            }
        }
    }
}

// The radial factors of the angular functions (G3/G9 on the (Gaussian group, angular group) grid)
// for every neighbour, zeroed accumulators, and the partners grouped by species.
void Acsf::prepare_angular_tables(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const {
    const int64_t n = env.size();
    const int n_g = static_cast<int>(gaussian_groups_.size());
    const int n_cells = n_cells_per_block();
    const int n_sp = static_cast<int>(n_species_);
    ws.gauss.resize(n * n_g);
    ws.gauss_d.resize(n * n_g);
    for (int64_t q = 0; q < n; ++q) {
        const double r = env.distances[q], fc = ws.radial_f[q], dfc = ws.radial_df[q];
        for (int g = 0; g < n_g; ++g) {
            const double dr = r - gaussian_groups_[g].r_shift;
            const double e = std::exp(-gaussian_groups_[g].eta * dr * dr);
            ws.gauss[q * n_g + g] = e * fc;
            ws.gauss_d[q * n_g + g] = (dfc - 2.0 * gaussian_groups_[g].eta * dr * fc) * e;
        }
    }
    std::fill(ws.values.begin(), ws.values.end(), 0.0);
    if (with_gradients) {
        ws.along.assign(static_cast<std::size_t>(n) * n_sp * n_cells, 0.0);
        ws.across.assign(static_cast<std::size_t>(n) * n_sp * 3 * n_cells, 0.0);
    }
    for (auto& members : ws.by_species) members.clear();
    ws.position.resize(n);
    for (int64_t q = 0; q < n; ++q) ws.by_species[ws.species[q]].push_back(q);
    // Partners are grouped by species: row(k) = first row of k's species + rank within it.
    ws.first_row.assign(n_sp + 1, 0);
    for (int s = 0; s < n_sp; ++s) {
        ws.first_row[s + 1] = ws.first_row[s] + static_cast<int64_t>(ws.by_species[s].size());
        for (std::size_t rank = 0; rank < ws.by_species[s].size(); ++rank) ws.position[ws.by_species[s][rank]] = ws.first_row[s] + static_cast<int64_t>(rank);
    }
}

// The angular terms A_jk and A'_jk of every pair, as rows per partner (and as pair tables when
// narrow groups need them).
void Acsf::tabulate_angular_terms(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const {
    const int64_t n = env.size();
    const int n_a = angular_stride_;
    const int64_t columns = with_gradients ? 5 * angular_stride_ : angular_stride_;
    const int n_groups = static_cast<int>(angular_groups_.size());
    const bool keep_pair_tables = !narrow_groups_.empty();
    const bool keep_partner_rows = !wide_groups_.empty();
    const int64_t stride = narrow_table_stride();
    if (keep_partner_rows) {
        ws.partner_rows.resize(static_cast<std::size_t>(n * n * columns));
        for (int64_t k = 0; k < n; ++k) {  // k is never its own partner
            std::fill_n(&ws.partner_rows[(ws.position[k] * n + k) * columns], columns, 0.0);
        }
    }
    if (keep_pair_tables) {
        // Every entry read is written below (the diagonal is never read), the padding included.
        ws.power.resize(static_cast<std::size_t>(n * n * stride));
        ws.power_d.resize(static_cast<std::size_t>(n * n * stride));
        ws.cosines.resize(static_cast<std::size_t>(n * n));
    }
    // Without wide groups only the pairs inside the cutoff contribute (through h(r_jk)), and
    // tabulate_pair_factors has listed them (it runs first when there are narrow groups).
    auto tabulate_pair = [&](int64_t j, int64_t k) {
        const double* uj = &ws.unit[3 * j];
        double* A = keep_pair_tables ? &ws.power[(j * n + k) * stride] : ws.pair_power.data();
        double* dA = keep_pair_tables ? &ws.power_d[(j * n + k) * stride] : ws.pair_power_d.data();
        const double* uk = &ws.unit[3 * k];
        const double cos_theta = uj[0] * uk[0] + uj[1] * uk[1] + uj[2] * uk[2];
        for (int a = 0; a < n_groups; ++a) {
            const AngularGroup& t = angular_groups_[a];
            const double base = 1.0 + t.lambda * cos_theta;
            if (base <= 0.0) {
                A[a] = dA[a] = 0.0;
                continue;
            }
            const double p = t.integer_zeta ? integer_power(base, t.integer_zeta - 1) : std::pow(base, t.zeta - 1.0);
            A[a] = t.prefactor * p * base;
            dA[a] = t.prefactor * t.zeta * t.lambda * p;
        }
        for (int a = n_groups; a < stride; ++a) A[a] = dA[a] = 0.0;
        // The row of partner k seen from j, and of partner j seen from k.
        for (int side = 0; side < 2 && keep_partner_rows; ++side) {
            const int64_t partner = side ? j : k, other = side ? k : j;
            double* row = &ws.partner_rows[(ws.position[partner] * n + other) * columns];
            std::copy_n(A, n_a, row);
            if (!with_gradients) continue;
            const double* u = &ws.unit[3 * partner];
            for (int a = 0; a < n_a; ++a) {
                row[n_a + a] = cos_theta * dA[a];
                row[2 * n_a + a] = u[0] * dA[a];
                row[3 * n_a + a] = u[1] * dA[a];
                row[4 * n_a + a] = u[2] * dA[a];
            }
        }
        if (keep_pair_tables) {
            ws.cosines[j * n + k] = ws.cosines[k * n + j] = cos_theta;
            std::copy_n(A, stride, &ws.power[(k * n + j) * stride]);
            std::copy_n(dA, stride, &ws.power_d[(k * n + j) * stride]);
        }
    };
    if (keep_partner_rows) {
        for (int64_t j = 0; j < n; ++j)
            for (int64_t k = j + 1; k < n; ++k) tabulate_pair(j, k);
    } else {
        for (int64_t pair : ws.unique_pairs) tabulate_pair(pair / n, pair % n);
    }
}

// Wide groups factorise over partners. For neighbour j and partner species s, with the sums
// running over partners k != j of species s,
//   S1[g][a] = sum_k G_k[g] A_jk[a]         S2[g][a] = sum_k G_k[g] cos_jk A'_jk[a]
//   Sx[g][a] = sum_k G_k[g] u_k,x A'_jk[a]  (x, y, z)
// give value += G_j S1 / 2 (ordered pairs count each pair twice),
//   d/dx_j = (G'_j S1 - G_j S2 / r_j) u_j + (G_j / r_j) (Sx, Sy, Sz).
// For every j at once these are one matrix product per partner species:
//   sums (n_wide x n*columns) = partner_gauss^T (n_wide x members) . partner_rows (members x n*columns)
void Acsf::add_wide_groups(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const {
    const int64_t n = env.size();
    const int n_g = static_cast<int>(gaussian_groups_.size());
    const int n_a = angular_stride_;
    const int n_cells = n_cells_per_block();
    const int n_sp = static_cast<int>(n_species_);
    const int n_wide = static_cast<int>(wide_groups_.size());
    const int64_t columns = with_gradients ? 5 * angular_stride_ : angular_stride_;
    for (int s = 0; s < n_sp && n_wide > 0; ++s) {
        const std::vector<int64_t>& members = ws.by_species[s];
        const int64_t m = static_cast<int64_t>(members.size());
        if (m == 0) continue;
        ws.partner_gauss.resize(static_cast<std::size_t>(m * n_wide));
        for (int64_t kk = 0; kk < m; ++kk) {
            for (int w = 0; w < n_wide; ++w) ws.partner_gauss[kk * n_wide + w] = ws.gauss[members[kk] * n_g + wide_groups_[w]];
        }
        ws.sums.resize(static_cast<std::size_t>(n_wide * n * columns));
        gemm(true, false, n_wide, n * columns, m, 1.0, ws.partner_gauss.data(), n_wide,
             &ws.partner_rows[ws.first_row[s] * n * columns], n * columns, 0.0, ws.sums.data(), n * columns);
        for (int64_t j = 0; j < n; ++j) {
            const double inverse_rj = 1.0 / env.distances[j];
            double* values = &ws.values[static_cast<std::size_t>(pair_block(ws.species[j], s)) * n_cells];
            for (int w = 0; w < n_wide; ++w) {
                const int g = wide_groups_[w];
                const double gj = ws.gauss[j * n_g + g], gdj = ws.gauss_d[j * n_g + g];
                const double* sum = &ws.sums[(w * n + j) * columns];
                double* value = values + g * n_a;
                for (int a = 0; a < n_a; ++a) value[a] += 0.5 * gj * sum[a];
                if (!with_gradients) continue;
                const std::size_t cell = static_cast<std::size_t>(g * n_a);
                double* along = &ws.along[(static_cast<std::size_t>(j) * n_sp + s) * n_cells + cell];
                double* across = &ws.across[(static_cast<std::size_t>(j) * n_sp + s) * 3 * n_cells + cell];
                for (int a = 0; a < n_a; ++a) {
                    along[a] += gdj * sum[a] - gj * inverse_rj * sum[n_a + a];
                    for (int x = 0; x < 3; ++x) across[x * n_cells + a] += gj * inverse_rj * sum[(2 + x) * n_a + a];
                }
            }
        }
    }
}

namespace {

// out[p][w] = exp(-eta_w (r_p - shift_w)^2) for every pair p and group w: one vector loop over all.
ATOMFP_DISPATCHED void pair_gaussians(int64_t n_pairs, const double* distances, int64_t n_groups, const double* etas,
                                      const double* shifts, double* out) {
    for (int64_t p = 0; p < n_pairs; ++p) {
        for (int64_t w = 0; w < n_groups; ++w) {
            const double dr = distances[p] - shifts[w];
            out[p * n_groups + w] = -etas[w] * dr * dr;
        }
    }
    for (int64_t i = 0; i < n_pairs * n_groups; ++i) out[i] = exp_of_nonpositive(out[i]);
}

}  // namespace

// The pair factors of the narrow groups, h(r_jk) = exp(-eta (r_jk - r_s)^2) f_c(r_jk) and its
// derivative over r_jk: the distance and the cutoff function once per unordered pair, one
// exponential per pair and group. Also, for every neighbour j, its partners inside the cutoff
// grouped by species (only they contribute; without gradients only partners k > j).
void Acsf::tabulate_pair_factors(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const {
    const int64_t n = env.size();
    const int64_t n_narrow = static_cast<int64_t>(narrow_groups_.size());
    const int n_sp = static_cast<int>(n_species_);
    ws.pair_h.resize(static_cast<std::size_t>(n_narrow * n * n));
    if (with_gradients) ws.pair_dh.resize(static_cast<std::size_t>(n_narrow * n * n));
    ws.near_start.assign(static_cast<std::size_t>(n * n_sp + 1), 0);
    ws.near.clear();
    ws.unique_pairs.clear();
    ws.unique_distances.clear();
    const double reach2 = cutoff_function_.cutoff() * cutoff_function_.cutoff();
    for (int64_t j = 0; j < n; ++j) {
        for (int s = 0; s < n_sp; ++s) {
            for (int64_t k : ws.by_species[s]) {
                if (k == j) continue;
                double r2 = 0.0;
                for (int x = 0; x < 3; ++x) {
                    const double d = env.displacements[3 * k + x] - env.displacements[3 * j + x];
                    r2 += d * d;
                }
                if (r2 >= reach2) continue;
                // Features alone need each unordered pair once; gradients need both orders.
                if (with_gradients || k > j) ws.near.push_back(k);
                if (k > j) {
                    ws.unique_pairs.push_back(j * n + k);
                    ws.unique_distances.push_back(std::sqrt(r2));
                }
            }
            ws.near_start[j * n_sp + s + 1] = static_cast<int64_t>(ws.near.size());
        }
    }
    const int64_t n_pairs = static_cast<int64_t>(ws.unique_pairs.size());
    ws.pair_exponentials.resize(static_cast<std::size_t>(n_pairs * n_narrow));
    pair_gaussians(n_pairs, ws.unique_distances.data(), n_narrow, narrow_etas_.data(), narrow_r_shifts_.data(),
                   ws.pair_exponentials.data());
    for (int64_t p = 0; p < n_pairs; ++p) {
        const int64_t j = ws.unique_pairs[p] / n, k = ws.unique_pairs[p] % n;
        const double r_jk = ws.unique_distances[p];
        double fc_jk, dfc_jk;
        cutoff_function_.evaluate(r_jk, fc_jk, dfc_jk);
        const double* e = &ws.pair_exponentials[p * n_narrow];
        for (int64_t w = 0; w < n_narrow; ++w) {
            const std::size_t jk = static_cast<std::size_t>((w * n + j) * n + k);
            const std::size_t kj = static_cast<std::size_t>((w * n + k) * n + j);
            ws.pair_h[jk] = ws.pair_h[kj] = e[w] * fc_jk;
            if (with_gradients) {
                const double dr = r_jk - narrow_r_shifts_[w];
                ws.pair_dh[jk] = ws.pair_dh[kj] = (dfc_jk - 2.0 * narrow_etas_[w] * dr * fc_jk) * e[w] / r_jk;
            }
        }
    }
}

namespace {

// The sums over the partners k of one neighbour j (one narrow group, one partner species) for four
// consecutive angular groups a, with c1 = G_k h(r_jk) and c2 = G_k h'(r_jk) / r_jk:
//   sums[0] = sum c1 A_jk          sums[1] = sum c1 cos_jk A'_jk    sums[2 + x] = sum c1 u_k,x A'_jk
//   sums[5] = sum c2 A_jk          sums[6 + x] = sum c2 d_k,x A_jk  (d_k = r_k u_k)
// The nine accumulators of four lanes stay in vector registers. (Features alone need only sums[0]:
// narrow_partner_values.)
template <int Lanes>
inline void narrow_partner_sums_lanes(int64_t count, const int64_t* partners, const double* gauss, int64_t gauss_stride,
                                      const double* h, const double* dh, const double* cosines, const double* unit,
                                      const double* displacements, const double* power, const double* power_d,
                                      int64_t stride, double sums[9][4]) {
    using Vector = typename DoubleLanes<Lanes>::type;
    constexpr int V = 4 / Lanes;
    Vector acc[9][V];
    for (auto& quantity : acc)
        for (Vector& v : quantity) v = Vector{};
    for (int64_t i = 0; i < count; ++i) {
        const int64_t k = partners[i];
        const double c1 = gauss[k * gauss_stride] * h[k];
        const double* A = power + k * stride;
        const double* dA = power_d + k * stride;
        const double c2 = gauss[k * gauss_stride] * dh[k];
        const double factor[9] = {c1,
                                  c1 * cosines[k],
                                  c1 * unit[3 * k],
                                  c1 * unit[3 * k + 1],
                                  c1 * unit[3 * k + 2],
                                  c2,
                                  c2 * displacements[3 * k],
                                  c2 * displacements[3 * k + 1],
                                  c2 * displacements[3 * k + 2]};
        for (int v = 0; v < V; ++v) {
            Vector a, da;
            __builtin_memcpy(&a, A + Lanes * v, sizeof a);
            __builtin_memcpy(&da, dA + Lanes * v, sizeof da);
            acc[0][v] += factor[0] * a;
            for (int q = 1; q < 5; ++q) acc[q][v] += factor[q] * da;
            for (int q = 5; q < 9; ++q) acc[q][v] += factor[q] * a;
        }
    }
    for (int q = 0; q < 9; ++q)
        for (int v = 0; v < V; ++v)
            for (int l = 0; l < Lanes; ++l) sums[q][Lanes * v + l] = acc[q][v][l];
}

// Without gradients: values[a] = sum over the partners of c1 A_jk[a] for every angular group (the
// table stride is a multiple of four), eight at a time.
template <int Lanes>
inline void narrow_partner_values_lanes(int64_t count, const int64_t* partners, const double* gauss, int64_t gauss_stride,
                                        const double* h, const double* power, int64_t stride, double* values) {
    std::fill(values, values + stride, 0.0);
    auto c1 = [&](int64_t i) { return gauss[partners[i] * gauss_stride] * h[partners[i]]; };
    int64_t a0 = 0;
    for (; a0 + 8 <= stride; a0 += 8) {
        accumulate_weighted_rows<Lanes, 8 / Lanes>(
            count, c1, [&](int64_t i) { return power + partners[i] * stride + a0; }, values + a0);
    }
    if (a0 < stride) {
        accumulate_weighted_rows<Lanes, 4 / Lanes>(
            count, c1, [&](int64_t i) { return power + partners[i] * stride + a0; }, values + a0);
    }
}

ATOMFP_DISPATCHED void narrow_partner_values(int64_t count, const int64_t* partners, const double* gauss, int64_t gauss_stride,
                                             const double* h, const double* power, int64_t stride, double* values) {
    if (avx2_kernels_selected()) {
        narrow_partner_values_lanes<4>(count, partners, gauss, gauss_stride, h, power, stride, values);
    } else {
        narrow_partner_values_lanes<2>(count, partners, gauss, gauss_stride, h, power, stride, values);
    }
}

ATOMFP_DISPATCHED void narrow_partner_sums(int64_t count, const int64_t* partners, const double* gauss, int64_t gauss_stride,
                                           const double* h, const double* dh, const double* cosines, const double* unit,
                                           const double* displacements, const double* power, const double* power_d,
                                           int64_t stride, double sums[9][4]) {
    if (avx2_kernels_selected()) {
        narrow_partner_sums_lanes<4>(count, partners, gauss, gauss_stride, h, dh, cosines, unit, displacements, power, power_d,
                                     stride, sums);
    } else {
        narrow_partner_sums_lanes<2>(count, partners, gauss, gauss_stride, h, dh, cosines, unit, displacements, power, power_d,
                                     stride, sums);
    }
}

}  // namespace

// Narrow groups carry the pair-specific factor h(r_jk). For neighbour j and partner species s,
// with the partner sums of narrow_partner_sums over ordered pairs (each pair counted twice):
//   value += G_j S0 / 2,
//   d/dx_j = (G'_j S0 - G_j S1 / r_j + G_j r_j T0) u_j + (G_j / r_j) (Sx, Sy, Sz) - G_j (Tx, Ty, Tz),
// the last term from h(r_jk) moving with x_j against each partner.
void Acsf::add_narrow_groups(const Environment& env, AcsfWorkspace& ws, bool with_gradients) const {
    const int64_t n = env.size();
    const int n_g = static_cast<int>(gaussian_groups_.size());
    const int n_a = angular_stride_;
    const int n_cells = n_cells_per_block();
    const int n_sp = static_cast<int>(n_species_);
    const int64_t stride = narrow_table_stride();
    if (narrow_groups_.empty()) return;
    double sums[9][4];
    for (int64_t w = 0; w < static_cast<int64_t>(narrow_groups_.size()); ++w) {
        const int g = narrow_groups_[w];
        for (int64_t j = 0; j < n; ++j) {
            const double rj = env.distances[j], inverse_rj = 1.0 / rj;
            const double gj = ws.gauss[j * n_g + g], gdj = ws.gauss_d[j * n_g + g];
            const double* h_row = &ws.pair_h[static_cast<std::size_t>((w * n + j) * n)];
            const double* dh_row = with_gradients ? &ws.pair_dh[static_cast<std::size_t>((w * n + j) * n)] : nullptr;
            for (int s = 0; s < n_sp; ++s) {
                const int64_t first = ws.near_start[j * n_sp + s], count = ws.near_start[j * n_sp + s + 1] - first;
                if (count == 0) continue;
                double* value = &ws.values[static_cast<std::size_t>(pair_block(ws.species[j], s)) * n_cells + g * n_a];
                const std::size_t cell = static_cast<std::size_t>(g * n_a);
                double* along = with_gradients ? &ws.along[(static_cast<std::size_t>(j) * n_sp + s) * n_cells + cell] : nullptr;
                double* across = with_gradients ? &ws.across[(static_cast<std::size_t>(j) * n_sp + s) * 3 * n_cells + cell] : nullptr;
                if (!with_gradients) {
                    // Unordered pairs: each counted once.
                    narrow_partner_values(count, &ws.near[first], &ws.gauss[g], n_g, h_row, &ws.power[j * n * stride], stride,
                                          ws.pair_values.data());
                    for (int a = 0; a < n_a; ++a) value[a] += gj * ws.pair_values[a];
                    continue;
                }
                for (int a0 = 0; a0 < n_a; a0 += 4) {
                    narrow_partner_sums(count, &ws.near[first], &ws.gauss[g], n_g, h_row, dh_row, &ws.cosines[j * n],
                                        ws.unit.data(), env.displacements.data(), &ws.power[j * n * stride + a0],
                                        &ws.power_d[j * n * stride + a0], stride, sums);
                    const int width = std::min(4, n_a - a0);
                    for (int l = 0; l < width; ++l) {
                        const int a = a0 + l;
                        value[a] += 0.5 * gj * sums[0][l];
                        along[a] += gdj * sums[0][l] - gj * inverse_rj * sums[1][l] + gj * rj * sums[5][l];
                        for (int x = 0; x < 3; ++x) across[x * n_cells + a] += gj * inverse_rj * sums[2 + x][l] - gj * sums[6 + x][l];
                    }
                }
            }
        }
    }
}

// The angular features from their cells, and their gradients from the along/across sums.
void Acsf::write_angular_functions(const Environment& env, AcsfWorkspace& ws, double* features, double* gradients) const {
    const int64_t n = env.size();
    const int64_t nf = n_features_;
    const int n_cells = n_cells_per_block();
    const int n_sp = static_cast<int>(n_species_);
    const bool with_gradients = gradients != nullptr;
    for (int b = 0; b < n_pair_blocks_; ++b) {
        double* out = features + angular_offset_ + b * n_angular_;
        const double* values = &ws.values[static_cast<std::size_t>(b) * n_cells];
        for (int64_t f = 0; f < n_angular_; ++f) out[f] = values[feature_cell_[f]];
    }
    if (!with_gradients) return;
    for (int64_t q = 0; q < n; ++q) {
        double* g = gradients + env.slots[q] * 3 * nf;
        const double* u = &ws.unit[3 * q];
        for (int s = 0; s < n_sp; ++s) {
            const int64_t base = angular_offset_ + pair_block(ws.species[q], s) * n_angular_;
            const double* along = &ws.along[(static_cast<std::size_t>(q) * n_sp + s) * n_cells];
            const double* across = &ws.across[(static_cast<std::size_t>(q) * n_sp + s) * 3 * n_cells];
            for (int x = 0; x < 3; ++x) {
                double* gx = g + x * nf + base;
                const double* cx = across + x * n_cells;
                for (int64_t f = 0; f < n_angular_; ++f) {
                    const int cell = feature_cell_[f];
                    gx[f] += u[x] * along[cell] + cx[cell];
                }
            }
        }
    }
}

}  // namespace atomfp
